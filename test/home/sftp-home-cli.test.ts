import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { treeOf } from "../support/remote-home.js";
import { startSshd, type TestSshd } from "../support/sshd.js";
import { startTcpCutProxy, type TcpCutProxy } from "../support/tcp-cut-proxy.js";

/**
 * A home on another machine, as a user runs it: `home: sftp://…` in an
 * app-backup.yml, the CLI backing up and restoring through a real OpenSSH
 * server on loopback, and a proxy in front of it that cuts the connection.
 */

let sshd: TestSshd;
let proxy: TcpCutProxy;
let folder: string;
let container: string;
let knownHosts: string;

beforeAll(async () => {
  sshd = await startSshd();
  proxy = await startTcpCutProxy(sshd.port);
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-cli-"));
  container = path.join(folder, "backups");
  knownHosts = path.join(folder, "known_hosts");
  // The same key under both ports: straight to the server, or through the proxy.
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n${sshd.hostKeyLine.replace(`:${sshd.port} `, `:${proxy.port} `)}\n`);
});

afterAll(async () => {
  await proxy?.close();
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** An app's content with what a site holds: nested folders, odd names, an empty file, a link, a private file, a large file. */
function makeHome(home: string, largeBytes = 3 * 1024 * 1024): void {
  mkdirSync(path.join(home, "site/wwwroot/css"), { recursive: true });
  mkdirSync(path.join(home, "site/wwwroot/uploads/2026"), { recursive: true });
  mkdirSync(path.join(home, "data"), { recursive: true });
  writeFileSync(path.join(home, "site/wwwroot/index.html"), "<h1>hello</h1>\n".repeat(50));
  writeFileSync(path.join(home, "site/wwwroot/css/site.css"), "body { color: #333 }\n");
  writeFileSync(path.join(home, "site/wwwroot/uploads/2026/photo é.jpg"), randomBytes(70_000));
  writeFileSync(path.join(home, "site/wwwroot/empty.txt"), "");
  writeFileSync(path.join(home, "data/large.bin"), randomBytes(largeBytes));
  writeFileSync(path.join(home, "data/secret.key"), "k".repeat(40));
  chmodSync(path.join(home, "data/secret.key"), 0o600);
  symlinkSync("css/site.css", path.join(home, "site/wwwroot/style.css"));
  for (let index = 0; index < 300; index++) writeFileSync(path.join(home, "site/wwwroot", `page-${index}.html`), `page ${index}\n`.repeat(index % 40));
  const when = new Date("2026-05-01T12:00:00Z");
  utimesSync(path.join(home, "site/wwwroot/index.html"), when, when);
}

/** An app-backup.yml for a home on the SFTP server, reached straight or through the cutting proxy. */
function remoteApp(name: string, home: string, options: { throughProxy?: boolean; filter?: string[] } = {}): string {
  const port = options.throughProxy ? proxy.port : sshd.port;
  const config = path.join(folder, `${name}${options.throughProxy ? "-proxied" : ""}.yml`);
  const filter = options.filter ? `  filter:\n${options.filter.map((line) => `    - ${JSON.stringify(line)}`).join("\n")}\n` : "";
  writeFileSync(
    config,
    `name: ${name}\nhome: sftp://${sshd.user}@127.0.0.1:${port}${home}\nsftp:\n  privateKeyFile: ${sshd.clientKeyPath}\n  knownHosts: ${knownHosts}\nbackup:\n  storage:\n    path: ${container}\n${filter}`,
  );
  return config;
}

describe("a home on another machine over SFTP", () => {
  it("backs up, and a restore over the changed home brings it back exactly (kinds, modes, content, links, times)", async () => {
    const home = path.join(folder, "app-one");
    makeHome(home);
    const before = treeOf(home);
    const config = remoteApp("app-one", home);

    const backup = await runCli(["backup", "--config", config, "--json"]);
    expect(backup.stderr).not.toMatch(/warning|error/i);
    expect(backup.code).toBe(0);
    expect(backup.json).toMatchObject({ status: "Succeeded", files: 306 });

    // The app changes after the backup: a file edited, one deleted, one added, a folder added.
    writeFileSync(path.join(home, "site/wwwroot/index.html"), "defaced");
    rmSync(path.join(home, "data/secret.key"));
    writeFileSync(path.join(home, "site/wwwroot/new.php"), "<?php");
    mkdirSync(path.join(home, "cache/x"), { recursive: true });

    const dryRun = await runCli(["restore", backup.json.name, "--config", config, "--dry-run", "--json"]);
    expect(dryRun.code).toBe(0);
    expect(dryRun.json.deleted).toEqual(expect.arrayContaining(["cache/", "site/wwwroot/new.php"]));
    expect(treeOf(home)["site/wwwroot/new.php"]).toBeDefined();

    const restore = await runCli(["restore", backup.json.name, "--config", config, "--yes", "--json"]);
    expect(restore.code).toBe(0);
    expect(restore.json.status).toBe("Succeeded");
    expect(treeOf(home)).toEqual(before);
    // Nothing of the restore is left beside the home.
    expect(readdirSync(folder).filter((name) => name.startsWith("app-one.restore"))).toEqual([]);
  });

  it("a partial backup's restore keeps the paths its filter left out, as they are now", async () => {
    const home = path.join(folder, "app-two");
    makeHome(home, 1024);
    const config = remoteApp("app-two", home, { filter: ["site/wwwroot/uploads"] });
    const backup = await runCli(["backup", "--config", config, "--json"]);
    expect(backup.code).toBe(0);
    writeFileSync(path.join(home, "site/wwwroot/uploads/2026/after-backup.jpg"), "new upload");
    writeFileSync(path.join(home, "site/wwwroot/index.html"), "changed");

    const restore = await runCli(["restore", backup.json.name, "--config", config, "--yes", "--json"]);
    expect(restore.code).toBe(0);
    expect(readFileSync(path.join(home, "site/wwwroot/uploads/2026/after-backup.jpg"), "utf8")).toBe("new upload");
    expect(readFileSync(path.join(home, "site/wwwroot/index.html"), "utf8")).toBe("<h1>hello</h1>\n".repeat(50));
  });

  it("a connection cut mid-backup fails the backup with exit 13, leaves nothing restorable and the home untouched", async () => {
    const home = path.join(folder, "app-three");
    makeHome(home, 8 * 1024 * 1024);
    const before = treeOf(home);
    const config = remoteApp("app-three", home, { throughProxy: true });
    proxy.cutAfterServerBytes(2 * 1024 * 1024);
    const backup = await runCli(["backup", "--config", config, "--json"]);
    expect(backup.code).toBe(13);
    expect(backup.stderr + backup.stdout).toMatch(/SFTP|connection/i);

    const list = await runCli(["list", "--config", config, "--json"]);
    expect(list.code).toBe(0);
    const restorable = (list.json.backups ?? []).filter((b: { status: string }) => b.status !== "Failed");
    expect(restorable).toEqual([]);
    expect(treeOf(home)).toEqual(before);
  });

  it("a connection cut mid-restore leaves the home as it was; the next restore removes the leftovers and restores", async () => {
    const home = path.join(folder, "app-four");
    makeHome(home, 8 * 1024 * 1024);
    const straight = remoteApp("app-four", home);
    const backup = await runCli(["backup", "--config", straight, "--json"]);
    expect(backup.code).toBe(0);
    const original = treeOf(home);
    writeFileSync(path.join(home, "site/wwwroot/index.html"), "changed since the backup");
    const changed = treeOf(home);

    // Reading the home for the plan is small; the cut comes while the restored tree is being sent.
    proxy.cutAfterServerBytes(64 * 1024);
    const cut = await runCli(["restore", backup.json.name, "--config", remoteApp("app-four", home, { throughProxy: true }), "--yes", "--json"]);
    expect(cut.code).not.toBe(0);
    expect(treeOf(home)).toEqual(changed);

    const again = await runCli(["restore", backup.json.name, "--config", straight, "--yes", "--json"]);
    expect(again.code).toBe(0);
    // The cut came after the restore had begun beside the home: this run found its journal and undid it.
    expect(again.json.warnings.join("\n")).toMatch(/was interrupted; it was rolled back and the home left as it was/);
    expect(treeOf(home)).toEqual(original);
    expect(readdirSync(folder).filter((name) => name.startsWith("app-four.restore"))).toEqual([]);
  });

  it("refuses a server whose host key is not in known_hosts, with exit 14, before reading anything", async () => {
    const home = path.join(folder, "app-five");
    makeHome(home, 1024);
    const config = remoteApp("app-five", home);
    writeFileSync(config, readFileSync(config, "utf8").replace(knownHosts, path.join(folder, "empty_known_hosts")));
    writeFileSync(path.join(folder, "empty_known_hosts"), "");
    const backup = await runCli(["backup", "--config", config, "--json"]);
    expect(backup.code).toBe(14);
    expect(backup.stderr).toMatch(/is not a known host/);
    expect(backup.stderr).toMatch(/ssh-keyscan/);
    expect(readdirSync(container).filter((name) => name.startsWith("app-five_"))).toEqual([]);
  });
});
