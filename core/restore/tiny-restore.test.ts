import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ExtractPool } from "../archive/extract-pool.js";
import { runBackup } from "../backup/backup.js";
import { resolveConfig } from "../config/load.js";
import { runRestore } from "./restore.js";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "app-backup-tiny-restore-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

it("restores a backup of a few small files without starting a worker thread", async () => {
  const home = path.join(root, "app", "home");
  await mkdir(path.join(home, "site"), { recursive: true });
  await writeFile(path.join(home, "site", "index.html"), "<h1>hello</h1>\n");
  await writeFile(path.join(home, "settings.json"), '{"debug":false}\n');
  const options = resolveConfig({ name: "tiny", home: "./home", backup: { storage: "file:../store" } }, { baseDir: path.join(root, "app") });
  expect((await runBackup(options)).status).toBe("Succeeded");
  await rm(home, { recursive: true });
  const before = ExtractPool.threadsStarted;

  const result = await runRestore(options, { backup: "latest" });

  expect(result.status).toBe("Succeeded");
  expect(readFileSync(path.join(home, "site", "index.html"), "utf8")).toBe("<h1>hello</h1>\n");
  expect(readFileSync(path.join(home, "settings.json"), "utf8")).toBe('{"debug":false}\n');
  expect(ExtractPool.threadsStarted).toBe(before);
});
