import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Azurite } from "./azurite.js";

const runFile = promisify(execFile);

/** A small app: a few site files in a home folder. */
export async function makeAppHome(parent: string): Promise<string> {
  const home = path.join(await mkdtemp(path.join(parent, "app-")), "home");
  await mkdir(path.join(home, "site/wwwroot/css"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n".repeat(40));
  await writeFile(path.join(home, "site/wwwroot/css/site.css"), "body{}\n");
  return home;
}

/** The entry names of a zip blob, as `unzip` lists them. */
export async function zipEntriesOf(azurite: Azurite, container: string, name: string, workDir: string): Promise<string[]> {
  const file = path.join(workDir, `${name}-${Date.now()}`);
  await azurite.service.getContainerClient(container).getBlobClient(name).downloadToFile(file);
  const { stdout } = await runFile("unzip", ["-Z1", file]);
  return stdout.trim().split("\n").sort();
}

/** Every file of a `file://` backend (state, history, backups), with its text. */
export async function backendFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(file, await readFile(file, "utf8"));
  }
  return files;
}
