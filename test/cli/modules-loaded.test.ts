import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeTemporaryFolders, temporaryFolder } from "../support/action-workspace.js";
import { cliPath } from "../support/cli.js";
import { moduleRecordingHook, modulesRun } from "../support/module-record.mjs";

afterAll(removeTemporaryFolders);

/** A run of the built CLI with what it loaded: the modules of the bundle it ran, and Node's own modules. */
async function loadedBy(args: string[]): Promise<{ code: number; stderr: string; modules: string[]; builtins: string[] }> {
  const dir = await temporaryFolder("modules-loaded-");
  const record = path.join(dir, "loaded.txt");
  const coverage = path.join(dir, "coverage");
  await writeFile(record, "");
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", moduleRecordingHook(record), cliPath, ...args], {
      cwd: dir,
      env: { ...process.env, NODE_V8_COVERAGE: coverage },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
  const lines = [...new Set((await readFile(record, "utf8")).split("\n"))];
  const builtins = lines.filter((line) => line.startsWith("builtin:")).map((line) => line.slice("builtin:".length));
  const modules = await modulesRun(lines, coverage, path.dirname(cliPath));
  return { code, stderr, modules, builtins };
}

/** The npm packages among the modules: `pg`, `@azure/storage-blob`, ... */
const packagesOf = (modules: string[]) =>
  new Set(modules.flatMap((module) => [...module.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1]!)));

const driversAndSdks = /^(pg|pg-.+|mysql2|mssql|tedious|@azure\/.+)$/;

async function tinyApp() {
  const dir = await temporaryFolder("modules-loaded-app-");
  const home = path.join(dir, "home");
  await mkdir(home);
  await writeFile(path.join(home, "index.html"), "hello world\n");
  return { home, storage: `file:${path.join(dir, "backups")}` };
}

describe("what a run of the CLI loads", () => {
  it("backs up into a local folder without loading a database driver or the Azure SDK", async () => {
    const { home, storage } = await tinyApp();
    const run = await loadedBy(["backup", "--app", "tiny", "--home", home, "--storage", storage]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.modules).toContain("cli/actions/backup.ts");
    expect([...packagesOf(run.modules)].filter((name) => driversAndSdks.test(name))).toEqual([]);
  });

  it("backs up an app described by flags without a YAML parser, an XML parser or the progress bar's library", async () => {
    const { home, storage } = await tinyApp();
    const run = await loadedBy(["backup", "--app", "tiny", "--home", home, "--storage", storage]);
    expect(run.code, run.stderr).toBe(0);
    const packages = packagesOf(run.modules);
    // The manifest is written with the XML builder alone; nothing is parsed, and stderr is no terminal.
    expect(packages).toContain("fast-xml-builder");
    expect([...packages].filter((name) => /^(yaml|fast-xml-parser|cli-progress)$/.test(name))).toEqual([]);
    // Nor the catalog's listing and manifest reading, which only retention, list and restore use.
    expect(run.modules.filter((module) => /^core\/catalog\/(listing|manifests|catalog)\.ts$/.test(module))).toEqual([]);
  });

  it("backs up a tiny home without loading worker threads or child processes", async () => {
    const { home, storage } = await tinyApp();
    const run = await loadedBy(["backup", "--app", "tiny", "--home", home, "--storage", storage]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.builtins).toContain("zlib");
    expect(run.builtins.filter((name) => /^(worker_threads|child_process)$/.test(name))).toEqual([]);
  });

  it("loads the YAML parser for a backup described by a configuration file", async () => {
    const { home, storage } = await tinyApp();
    const config = path.join(path.dirname(home), "app-backup.yml");
    await writeFile(config, `name: tiny\nhome: ${home}\nbackup:\n  storage: ${storage}\n`);
    const run = await loadedBy(["backup", "--config", config]);
    expect(run.code, run.stderr).toBe(0);
    expect(packagesOf(run.modules)).toContain("yaml");
  });

  it("loads the PostgreSQL driver for a backup with a PostgreSQL database", async () => {
    const { home, storage } = await tinyApp();
    // Nothing listens on port 1: the backup fails, after loading the driver to connect.
    const run = await loadedBy(["backup", "--app", "tiny", "--home", home, "--storage", storage, "--database", "Main=PostgreSql:postgres://shop:pw@127.0.0.1:1/shop"]);
    expect(run.code).not.toBe(0);
    expect(packagesOf(run.modules)).toContain("pg");
    expect([...packagesOf(run.modules)].filter((name) => /^(mysql2|mssql|tedious|@azure\/.+)$/.test(name))).toEqual([]);
  });

  it.each([["--version"], ["--help"], ["backup", "--help"]])("%s loads no command's implementation", async (...args) => {
    const run = await loadedBy(args);
    expect(run.code, run.stderr).toBe(0);
    expect(run.modules.filter((module) => module.startsWith("cli/actions/"))).toEqual([]);
    expect(packagesOf(run.modules)).toEqual(new Set(["commander"]));
  });

  it("lists backups that carry their facts without an XML parser, and loads one for a manifest that must be read", async () => {
    const { home, storage } = await tinyApp();
    const app = ["--app", "tiny", "--storage", storage];
    const backup = await loadedBy(["backup", ...app, "--home", home]);
    expect(backup.code, backup.stderr).toBe(0);
    const list = await loadedBy(["list", ...app]);
    expect(list.code, list.stderr).toBe(0);
    expect(packagesOf(list.modules)).not.toContain("fast-xml-parser");
    // Without its record of the facts, the manifest itself is read.
    const folder = storage.slice("file:".length);
    for (const name of await readdir(folder)) if (name.startsWith(".metadata-")) await rm(path.join(folder, name));
    const reread = await loadedBy(["list", ...app, "--json"]);
    expect(reread.code, reread.stderr).toBe(0);
    expect(packagesOf(reread.modules)).toContain("fast-xml-parser");
  });

  it("loads the implementation of the command that runs and of no other", async () => {
    const { storage } = await tinyApp();
    const run = await loadedBy(["list", "--app", "tiny", "--storage", storage]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.modules.filter((module) => module.startsWith("cli/actions/"))).toEqual(["cli/actions/list.ts"]);
  });
});
