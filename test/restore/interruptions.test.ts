import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, open, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recoverInterruptedRestore } from "../../core/restore/switch.js";
import { cliPath, repoRoot, runCli } from "../support/cli.js";
import { backUp, leftovers, makeApp, treeFacts, type TestApp } from "../support/test-app.js";

/** Files the restore writes early (zip order follows the walk: `a-first/` comes first) and one large file it writes last. */
async function addBulk(home: string, options: { smallFiles?: number; bigBytes?: number } = {}) {
  await mkdir(path.join(home, "a-first"), { recursive: true });
  for (let i = 0; i < (options.smallFiles ?? 400); i++) await writeFile(path.join(home, "a-first", `${String(i).padStart(4, "0")}.txt`), `file ${i}\n`.repeat(50));
  // A random megabyte repeated: incompressible for deflate's 32 KiB window, quick to make.
  const block = randomBytes(1024 * 1024);
  const handle = await open(path.join(home, "z-big.bin"), "w");
  for (let written = 0; written < (options.bigBytes ?? 96 * 1024 * 1024); written += block.length) await handle.write(block);
  await handle.close();
}

function startRestore(args: string[]) {
  // At the lowest priority, so that on a busy machine the restore cannot finish before the test, polling, stops it.
  const child = spawn("nice", ["-n", "19", process.execPath, cliPath, "restore", ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  // "close" comes once the process has exited and its output is read to the end.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exited };
}

/** The staged tree of the restore running on `home`, once it exists. */
function stagedTree(home: string): string | undefined {
  const name = readdirSync(path.dirname(home)).find((n) => /\.restore-[0-9a-f]{12}$/.test(n) && n.startsWith(`${path.basename(home)}.`));
  return name ? path.join(path.dirname(home), name) : undefined;
}

/** Polls (tightly: the window is short) until `condition` returns a value; gives up after a while. */
async function until<T>(condition: () => T | undefined, what: string, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const journalOf = (home: string) => JSON.parse(readFileSync(`${home}.restore.json`, "utf8"));

/** Stops a restore once it has written its first files into the staged tree, before it finishes. */
async function stopMidExtract(app: TestApp, name: string) {
  const run = startRestore([name, "--config", app.config, "--json"]);
  const tree = await until(() => {
    const staged = stagedTree(app.home);
    return staged && existsSync(path.join(staged, "a-first", "0000.txt")) ? staged : undefined;
  }, "the first staged file");
  run.child.kill("SIGSTOP");
  // Stopped before the switch: had the restore got further, what follows would test nothing.
  expect(journalOf(app.home).phase).toBe("staging");
  return { run, tree };
}

describe("a restore that is interrupted never leaves the home half restored", () => {
  it("kill -9 mid-extract leaves the home as it was; the next restore rolls the leftovers back and restores", async () => {
    const app = await makeApp();
    await addBulk(app.home);
    const original = treeFacts(app.home);
    const name = await backUp(app);
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "changed after the backup");
    await rm(path.join(app.home, "a-first"), { recursive: true });
    const changed = treeFacts(app.home);

    const { run, tree } = await stopMidExtract(app, name);
    // Stopped mid-extract: the large last file not complete.
    const big = path.join(tree, "z-big.bin");
    expect(!existsSync(big) || statSync(big).size < 96 * 1024 * 1024).toBe(true);
    run.child.kill("SIGKILL");
    expect((await run.exited).signal).toBe("SIGKILL");

    expect(treeFacts(app.home)).toEqual(changed);
    expect(leftovers(app.home).length).toBeGreaterThan(0);

    const next = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.json.recovered).toMatchObject({ backup: name, action: "rolled back" });
    expect(next.json.warnings.join("\n")).toMatch(/was interrupted; it was rolled back and the home left as it was/);
    expect(treeFacts(app.home)).toEqual(original);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("SIGTERM mid-extract stops the restore, discards what was staged and reports that nothing changed", async () => {
    const app = await makeApp();
    await addBulk(app.home);
    const name = await backUp(app);
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "changed after the backup");
    const changed = treeFacts(app.home);

    const { run } = await stopMidExtract(app, name);
    run.child.kill("SIGTERM");
    run.child.kill("SIGCONT");
    const result = await run.exited;
    // Interrupted: 130, whatever the restore made of the signal.
    expect(result.code).toBe(130);
    const json = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(json).toMatchObject({ status: "Failed", parts: { files: false } });
    expect(json.error.message).toMatch(/stopped by SIGTERM before the switch; nothing was changed/);
    expect(treeFacts(app.home)).toEqual(changed);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("a second restore of the same home while one runs exits 75 without touching anything", async () => {
    const app = await makeApp();
    await addBulk(app.home, { bigBytes: 32 * 1024 * 1024 });
    const original = treeFacts(app.home);
    const name = await backUp(app);
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "changed after the backup");

    const { run } = await stopMidExtract(app, name);
    const second = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(second.code).toBe(75);
    expect(second.json).toMatchObject({ status: "Error", error: { code: "LOCKED" } });
    expect(second.stderr).toMatch(/Another restore \(of .*\) is running on/);

    run.child.kill("SIGCONT");
    const first = await run.exited;
    expect(first.code, first.stderr).toBe(0);
    expect(treeFacts(app.home)).toEqual(original);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("a crash between the two renames is completed by the next run", async () => {
    const app = await makeApp();
    const original = treeFacts(app.home);
    const name = await backUp(app);
    // The state a restore leaves when killed after renaming the home aside and before renaming the staged tree in.
    const id = "0123456789ab";
    const staged = `${app.home}.restore-${id}`;
    const other = await makeApp();
    expect((await runCli(["restore", name, "--config", app.config, "--to", other.config])).code).toBe(0);
    await rename(other.home, staged);
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "the old home");
    await rename(app.home, `${app.home}.restore-${id}.old`);
    const dead = spawn("true");
    await new Promise((resolve) => dead.once("exit", resolve));
    await writeFile(
      `${app.home}.restore.json`,
      JSON.stringify({ formatVersion: 1, id, backup: name, home: app.home, pid: dead.pid, host: os.hostname(), startedAt: new Date().toISOString(), phase: "switching", kept: [], databasesRestored: [] }),
    );
    expect(existsSync(app.home)).toBe(false);

    expect(await recoverInterruptedRestore(app.home)).toMatchObject({ backup: name, action: "completed" });
    expect(treeFacts(app.home)).toEqual(original);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("a crash after the switch, with the old home half deleted, is finished by the next run without touching the new home", async () => {
    const app = await makeApp();
    const name = await backUp(app);
    // The state a restore leaves when killed while deleting the old home: the new home in place,
    // the staged tree gone, the journal still `switching` (a local restore records nothing after it).
    const id = "0123456789ab";
    const old = `${app.home}.restore-${id}.old`;
    await mkdir(path.join(old, "site/wwwroot"), { recursive: true });
    await writeFile(path.join(old, "site/wwwroot/left.html"), "not yet deleted");
    await writeFile(path.join(app.home, "site/wwwroot/new.html"), "written since the switch");
    const restored = treeFacts(app.home);
    const dead = spawn("true");
    await new Promise((resolve) => dead.once("exit", resolve));
    await writeFile(
      `${app.home}.restore.json`,
      JSON.stringify({ formatVersion: 1, id, backup: name, home: app.home, pid: dead.pid, host: os.hostname(), startedAt: new Date().toISOString(), phase: "switching", kept: [], databasesRestored: [] }),
    );

    expect(await recoverInterruptedRestore(app.home)).toMatchObject({ backup: name, action: "completed" });
    expect(treeFacts(app.home)).toEqual(restored);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("a crash before the first rename is completed too, carrying the kept paths over", async () => {
    const app = await makeApp({ filter: "\\site\\wwwroot\\cache\n" });
    const original = treeFacts(app.home);
    const name = await backUp(app);
    const id = "ba9876543210";
    const other = await makeApp();
    expect((await runCli(["restore", name, "--config", app.config, "--to", other.config])).code).toBe(0);
    await rm(path.join(other.home, "site/wwwroot/cache"), { recursive: true, force: true });
    await rename(other.home, `${app.home}.restore-${id}`);
    await writeFile(path.join(app.home, "site/wwwroot/cache/page.html"), "kept cache");
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "the old home");
    await writeFile(
      `${app.home}.restore.json`,
      JSON.stringify({ formatVersion: 1, id, backup: name, home: app.home, pid: 2 ** 22 + 1, host: os.hostname(), startedAt: new Date().toISOString(), phase: "switching", kept: ["site/wwwroot/cache"], databasesRestored: [] }),
    );

    const run = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.recovered).toMatchObject({ backup: name, action: "completed" });
    expect(readFileSync(path.join(app.home, "site/wwwroot/cache/page.html"), "utf8")).toBe("kept cache");
    const after = treeFacts(app.home);
    for (const [p, fact] of Object.entries(original)) if (!p.startsWith("site/wwwroot/cache/")) expect(after[p], p).toBe(fact);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("a staging folder left without a journal is deleted by the next restore", async () => {
    const app = await makeApp();
    const original = treeFacts(app.home);
    const name = await backUp(app);
    const stray = `${app.home}.restore-fedcba987654`;
    await mkdir(path.join(stray, "site"), { recursive: true });
    await writeFile(path.join(stray, "site/half.txt"), "half written");
    const run = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(run.code).toBe(0);
    expect(run.json.warnings.join("\n")).toContain(`Deleted ${stray}`);
    expect(existsSync(stray)).toBe(false);
    expect(treeFacts(app.home)).toEqual(original);
  });
});

describe("a full disk never costs the home", () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const mount of mounts) execFileSync("umount", [mount]);
  });

  /** A small file system holding the target app's home. */
  async function smallDisk(size: string): Promise<{ dir: string; home: string; config: string }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "small-disk-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
    mounts.push(dir);
    const home = path.join(dir, "home");
    await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
    await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>target</h1>");
    await writeFile(path.join(home, "site/wwwroot/asset.bin"), randomBytes(1024 * 1024));
    const config = path.join(dir, "app-backup.yml");
    await writeFile(config, `name: target\nhome: ./home\n`);
    return { dir, home, config };
  }

  it("refuses up front when the staged tree cannot fit beside the home", async () => {
    const app = await makeApp();
    await writeFile(path.join(app.home, "site/wwwroot/video.bin"), randomBytes(6 * 1024 * 1024));
    const name = await backUp(app);
    const target = await smallDisk("5m");
    const before = treeFacts(target.home);

    const run = await runCli(["restore", name, "--config", app.config, "--to", target.config, "--json"]);
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({ status: "Error", error: { code: "RESTORE" } });
    expect(run.stderr).toMatch(/needs [\d.]+ MB beside the home .* but only [\d.]+ (MB|KB) are free; nothing was changed/);
    expect(treeFacts(target.home)).toEqual(before);
    expect(leftovers(target.home)).toEqual([]);
  });

  it("running out of space mid-extract stops the restore and leaves the home as it was", async () => {
    const app = await makeApp();
    await addBulk(app.home, { smallFiles: 200, bigBytes: 40 * 1024 * 1024 });
    const name = await backUp(app);
    // Room for the restore when it starts (it checks), taken by another process while it runs.
    const target = await smallDisk("64m");
    const before = treeFacts(target.home);

    const run = startRestore([name, "--config", app.config, "--to", target.config, "--json"]);
    await until(() => stagedTree(target.home), "the staged tree");
    run.child.kill("SIGSTOP");
    // Another process fills the disk while the restore is paused.
    const filler = path.join(target.dir, "filler");
    const handle = await open(filler, "w");
    try {
      for (;;) await handle.write(Buffer.alloc(64 * 1024));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      await handle.close();
    }
    run.child.kill("SIGCONT");
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(json).toMatchObject({ status: "Failed", parts: { files: false } });
    expect(json.error.message).toMatch(/No space left on the device while staging .*nothing was changed/);
    await rm(filler);
    expect(treeFacts(target.home)).toEqual(before);
    expect(leftovers(target.home)).toEqual([]);
  });
});
