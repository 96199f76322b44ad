import { readdirSync } from "node:fs";
import { mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDescriptors, tempFolders } from "../../test/support/spool-checks.js";
import { pythonInspect, unzipTest } from "../../test/support/zip-tools.js";
import { archiveWorkersStarted } from "../archive/worker-pool.js";
import { resolveConfig } from "../config/load.js";
import { runBackup } from "./backup.js";

const tempFolder = tempFolders();

async function homeWith(files: number, { large = false } = {}): Promise<{ dir: string; home: string }> {
  const dir = tempFolder("backup-spool-");
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot/empty"), { recursive: true });
  for (let i = 0; i < files; i++) {
    const folder = path.join(home, "site/wwwroot", `f${i % 7}`, "ünï €");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `page-${i}.html`), `<p>${i} ${"text ".repeat(i % 40)}</p>\n`);
  }
  await symlink("../index.html", path.join(home, "site/wwwroot/home.html"));
  await symlink("/etc", path.join(home, "site/etc"));
  if (large) await writeFile(path.join(home, "site/big.log"), "a log line that repeats\n".repeat(100_000));
  return { dir, home };
}

function optionsFor(dir: string, home: string, container: string, backup: Record<string, unknown> = {}) {
  return resolveConfig({ name: "shop", home, backup: { storage: { path: path.join(dir, container) }, ...backup } }, { baseDir: dir });
}

const at = new Date("2031-02-03T04:05:06Z");

describe("a backup's records of what it walked and wrote", () => {
  it("spilled to a temp file, make the same zip and manifest as kept in memory, and the temp file is gone after", async () => {
    const { dir, home } = await homeWith(300, { large: true });
    const spoolDir = tempFolder("spool-dir-");
    const descriptors = openDescriptors();
    const inMemory = await runBackup(optionsFor(dir, home, "memory"), { now: at });
    const spilled = await runBackup(optionsFor(dir, home, "spilled"), { now: at, spool: { memoryBytes: 0, directory: spoolDir } });
    expect(spilled).toMatchObject({ status: "Succeeded", files: 301, name: inMemory.name, sizeBytes: inMemory.sizeBytes, contentBytes: inMemory.contentBytes });
    expect(inMemory.files).toBe(301);

    const zipOf = (container: string) => path.join(dir, container, `${inMemory.name}.zip`);
    expect((await readFile(zipOf("spilled"))).equals(await readFile(zipOf("memory")))).toBe(true);
    // Only the finish time, which the clock decides, may differ.
    const manifestOf = async (container: string) => (await readFile(path.join(dir, container, `${inMemory.name}.xml`), "utf8")).replace(/<FinishedAt>[^<]*</, "<FinishedAt><");
    const manifest = await manifestOf("spilled");
    expect(manifest).toBe(await manifestOf("memory"));
    // meta, 301 files, 2 links, site/, wwwroot/, empty/, and 7 folders with one folder each.
    expect(manifest).toContain(`<Entries count="${1 + 301 + 2 + 3 + 7 * 2}">`);
    expect(manifest).toContain('name="fs/site/wwwroot/f3/ünï €/page-3.html"');

    const check = unzipTest(zipOf("spilled"));
    expect(check.output).toContain("No errors detected");
    const python = pythonInspect(zipOf("spilled"), { hashes: true });
    expect(python.testzip).toBeNull();
    expect(python.entries.find((e) => e.name === "fs/site/wwwroot/home.html")!.linkTarget).toBe("../index.html");

    expect(readdirSync(spoolDir)).toEqual([]);
    expect(openDescriptors()).toBe(descriptors);
  });

  it("refuse an over-size home before anything is written, and leave no temp file", async () => {
    const { dir, home } = await homeWith(50);
    const spoolDir = tempFolder("spool-dir-");
    const descriptors = openDescriptors();
    const options = optionsFor(dir, home, "backups", { maxSize: "1KB" });
    await expect(runBackup(options, { now: at, spool: { memoryBytes: 0, directory: spoolDir } })).rejects.toMatchObject({ code: "SIZE_LIMIT" });
    expect(await readdir(path.join(dir, "backups")).catch(() => [])).toEqual([]);
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(openDescriptors()).toBe(descriptors);
  });

  it("go with the backup when it is stopped part way", async () => {
    const { dir, home } = await homeWith(300);
    const spoolDir = tempFolder("spool-dir-");
    const descriptors = openDescriptors();
    const controller = new AbortController();
    const stopped = new Error("stopped by the test");
    let reports = 0;
    const run = runBackup(optionsFor(dir, home, "backups"), {
      now: at,
      spool: { memoryBytes: 0, directory: spoolDir },
      signal: controller.signal,
      // The first report comes once the zip writer runs: the walk's and the writer's spools are both open.
      onProgress: () => {
        if (reports++ === 0) controller.abort(stopped);
      },
    });
    await expect(run).rejects.toBe(stopped);
    expect(reports).toBeGreaterThan(0);
    expect(await readdir(path.join(dir, "backups")).catch(() => [])).toEqual([]);
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(openDescriptors()).toBe(descriptors);
  });
});

describe("a backup's archive workers", () => {
  it("are not started for a tiny home, whose few bytes are deflated on the main thread", async () => {
    const dir = tempFolder("tiny-");
    const home = path.join(dir, "home");
    await mkdir(home);
    await writeFile(path.join(home, "hello.txt"), "hello world\n");
    const before = archiveWorkersStarted();
    const result = await runBackup(optionsFor(dir, home, "backups"), { now: at });
    expect(result).toMatchObject({ status: "Succeeded", files: 1, contentBytes: expect.any(Number) });
    expect(archiveWorkersStarted()).toBe(before);
    expect(unzipTest(path.join(dir, "backups", `${result.name}.zip`)).ok).toBe(true);
  });

  it("start once the home holds more than a little work", async () => {
    const { dir, home } = await homeWith(600);
    const before = archiveWorkersStarted();
    const result = await runBackup(optionsFor(dir, home, "backups"), { now: at });
    expect(result).toMatchObject({ status: "Succeeded", files: 600 });
    expect(archiveWorkersStarted()).toBeGreaterThan(before);
  });
});
