import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { TestSshd } from "./sshd.js";

/** An app's content on the SFTP server: nested folders, a binary file, an empty file, a link, a fixed mtime. */
export function makeRemoteHome(home: string): void {
  mkdirSync(path.join(home, "site/wwwroot/css"), { recursive: true });
  mkdirSync(path.join(home, "site/wwwroot/uploads/2030"), { recursive: true });
  writeFileSync(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n".repeat(30));
  writeFileSync(path.join(home, "site/wwwroot/css/site.css"), "body { margin: 0 }\n");
  writeFileSync(path.join(home, "site/wwwroot/uploads/2030/photo.jpg"), randomBytes(200_000));
  writeFileSync(path.join(home, "site/wwwroot/empty.txt"), "");
  symlinkSync("css/site.css", path.join(home, "site/wwwroot/style.css"));
  const when = new Date("2029-12-24T18:00:00Z");
  utimesSync(path.join(home, "site/wwwroot/index.html"), when, when);
}

export interface TreeEntry {
  kind: "file" | "directory" | "symlink";
  mode: number;
  size: number;
  sha256?: string;
  link?: string;
  mtimeSeconds?: number;
}

/**
 * What a user compares after a restore of a home over SFTP: every path's kind, mode, size, content,
 * link target and file time, to the second (what SFTP carries; folders' times are not compared).
 */
export function treeOf(root: string): Record<string, TreeEntry> {
  const tree: Record<string, TreeEntry> = {};
  const visit = (relative: string) => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const child = relative ? `${relative}/${name}` : name;
      const info = lstatSync(path.join(root, child));
      if (info.isDirectory()) {
        tree[`${child}/`] = { kind: "directory", mode: info.mode & 0o7777, size: 0 };
        visit(child);
      } else if (info.isSymbolicLink()) {
        tree[child] = { kind: "symlink", mode: 0, size: 0, link: readlinkSync(path.join(root, child)) };
      } else {
        const sha256 = createHash("sha256").update(readFileSync(path.join(root, child))).digest("hex");
        tree[child] = { kind: "file", mode: info.mode & 0o7777, size: info.size, sha256, mtimeSeconds: Math.floor(info.mtimeMs / 1000) };
      }
    }
  };
  visit("");
  return tree;
}

export interface DeployKey {
  /** The private key's text, as a secret holds it. */
  text: string;
  passphrase: string;
  /** Lines of the key's base64 body: any one of them found in a file means the key leaked. */
  bodyLines: string[];
}

/**
 * A deploy key of its own, protected by a passphrase (so the passphrase is a secret the
 * configuration holds too), authorized on the server. Only its text is kept: no file of it is left.
 */
export function makeDeployKey(sshd: TestSshd, folder: string, passphrase: string): DeployKey {
  const keyPath = path.join(folder, "deploy_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "deploy", "-f", keyPath]);
  sshd.authorizeKey(readFileSync(`${keyPath}.pub`, "utf8"));
  const text = readFileSync(keyPath, "utf8");
  rmSync(keyPath);
  rmSync(`${keyPath}.pub`);
  const bodyLines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("-----"));
  if (bodyLines.length === 0) throw new Error(`ssh-keygen wrote a key without a body:\n${text}`);
  return { text, passphrase, bodyLines };
}
