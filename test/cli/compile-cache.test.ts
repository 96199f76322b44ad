import { chmod, mkdir, readdir, readFile, stat, truncate, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileCacheFolderName } from "../../cli/compile-cache.js";
import { removeTemporaryFolders, temporaryFolder } from "../support/action-workspace.js";
import { runCli } from "../support/cli.js";

afterAll(removeTemporaryFolders);

/** A temp folder of its own for one run of the CLI, and an empty local container. */
async function setUp() {
  const dir = await temporaryFolder("compile-cache-");
  const tmp = path.join(dir, "tmp");
  await mkdir(tmp);
  return { dir, tmp, list: ["list", "--app", "shop", "--storage", `file:${path.join(dir, "backups")}`] };
}

describe("the compile cache", () => {
  it("keeps the CLI's compiled code in a folder of the user's own under the temp folder", async () => {
    const { tmp, list } = await setUp();
    const run = await runCli(list, { env: { TMPDIR: tmp } });
    expect(run.code, run.stderr).toBe(0);
    const folder = path.join(tmp, compileCacheFolderName());
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    expect(await readdir(folder)).not.toEqual([]);
  });

  it("is not used from a folder others can write to", async () => {
    const { tmp, list } = await setUp();
    const folder = path.join(tmp, compileCacheFolderName());
    await mkdir(folder);
    await chmod(folder, 0o777);
    const run = await runCli(list, { env: { TMPDIR: tmp } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("No backups of shop");
    expect(await readdir(folder)).toEqual([]);
  });

  it("is left out when the temp folder cannot hold it", async () => {
    const { dir, list } = await setUp();
    const notAFolder = path.join(dir, "file");
    await writeFile(notAFolder, "");
    const run = await runCli(list, { env: { TMPDIR: notAFolder } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("No backups of shop");
    expect(run.stderr).toBe("");
  });

  it("is not used when NODE_DISABLE_COMPILE_CACHE is set", async () => {
    const { tmp, list } = await setUp();
    const run = await runCli(list, { env: { TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: "1" } });
    expect(run.code, run.stderr).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe("the code cache of each command", () => {
  const codeCaches = async (folder: string) => (await readdir(folder)).filter((name) => name.startsWith("program-")).sort();

  it("is written by a command's first successful run and read, not rewritten, by the next", async () => {
    const { tmp, list } = await setUp();
    const folder = path.join(tmp, compileCacheFolderName());
    const first = await runCli(list, { env: { TMPDIR: tmp } });
    expect(first.code, first.stderr).toBe(0);
    const [cache, ...others] = await codeCaches(folder);
    expect(others).toEqual([]);
    expect(cache).toMatch(/^program-[0-9a-f]{16}-\d+-\d+-list\.bin$/);
    const written = await stat(path.join(folder, cache!));
    expect(written.mode & 0o777).toBe(0o600);
    expect(written.size).toBeGreaterThan(10_000);

    const second = await runCli(list, { env: { TMPDIR: tmp } });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(await codeCaches(folder)).toEqual([cache]);
    const after = await stat(path.join(folder, cache!));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it("is replaced when V8 cannot use it: a damaged or a cut-short cache costs the run nothing", async () => {
    const { tmp, list } = await setUp();
    const folder = path.join(tmp, compileCacheFolderName());
    expect((await runCli(list, { env: { TMPDIR: tmp } })).code).toBe(0);
    const [cache] = await codeCaches(folder);
    const file = path.join(folder, cache!);
    const good = await readFile(file);

    await truncate(file, Math.floor(good.length / 2));
    const afterCut = await runCli(list, { env: { TMPDIR: tmp } });
    expect(afterCut.code, afterCut.stderr).toBe(0);
    expect(afterCut.stdout).toContain("No backups of shop");
    // A whole cache again: the functions compiled differ a little from run to run.
    expect((await readFile(file)).length).toBeGreaterThan(good.length * 0.9);

    await writeFile(file, Buffer.alloc(good.length, 0x5a));
    const afterDamage = await runCli(list, { env: { TMPDIR: tmp } });
    expect(afterDamage.code, afterDamage.stderr).toBe(0);
    expect(afterDamage.stdout).toContain("No backups of shop");
    // What V8 checks before it reads a cache: its magic number, version, source and flags.
    expect((await readFile(file)).subarray(0, 16)).toEqual(good.subarray(0, 16));
  });

  it("is not written by a run that failed, which may not have reached the command's work", async () => {
    const { tmp, dir } = await setUp();
    const run = await runCli(["show", "latest", "--app", "shop", "--storage", `file:${path.join(dir, "backups")}`], { env: { TMPDIR: tmp } });
    expect(run.code).not.toBe(0);
    expect(await codeCaches(path.join(tmp, compileCacheFolderName()))).toEqual([]);
  });

  it("is made for a command by a run that ran it: help on the command makes none", async () => {
    const { tmp, dir } = await setUp();
    const folder = path.join(tmp, compileCacheFolderName());
    const help = await runCli(["backup", "--help"], { env: { TMPDIR: tmp } });
    expect(help.code, help.stderr).toBe(0);
    expect(await codeCaches(folder)).toEqual([]);
    await mkdir(path.join(dir, "home"));
    await writeFile(path.join(dir, "home", "index.html"), "hello\n");
    const backup = await runCli(["backup", "--app", "shop", "--storage", `file:${path.join(dir, "backups")}`, "--home", path.join(dir, "home")], { env: { TMPDIR: tmp } });
    expect(backup.code, backup.stderr).toBe(0);
    expect(await codeCaches(folder)).toEqual([expect.stringMatching(/-backup\.bin$/)]);
    const version = await runCli(["--version"], { env: { TMPDIR: tmp } });
    expect(version.code, version.stderr).toBe(0);
    expect(await codeCaches(folder)).toEqual([expect.stringMatching(/--\.bin$/), expect.stringMatching(/-backup\.bin$/)]);
  });

  it("keeps the 48 newest caches, removing older ones and abandoned partial writes as it writes", async () => {
    const { tmp, list } = await setUp();
    const folder = path.join(tmp, compileCacheFolderName());
    await mkdir(folder, { mode: 0o700 });
    const old = Array.from({ length: 60 }, (_, index) => `program-${index.toString(16).padStart(16, "0")}-1-1-backup.bin`);
    for (const [index, name] of old.entries()) {
      await writeFile(path.join(folder, name), "old");
      await utimes(path.join(folder, name), 1_000_000 + index, 1_000_000 + index);
    }
    // Partial writes: one left by a run that ended two hours ago, one of a run still writing.
    const abandoned = `${old[0]}.4242.partial`;
    await writeFile(path.join(folder, abandoned), "part");
    await utimes(path.join(folder, abandoned), Date.now() / 1000 - 7200, Date.now() / 1000 - 7200);
    const writing = `${old[1]}.4343.partial`;
    await writeFile(path.join(folder, writing), "part");
    const run = await runCli(list, { env: { TMPDIR: tmp } });
    expect(run.code, run.stderr).toBe(0);
    const all = await codeCaches(folder);
    expect(all).toContain(writing);
    expect(all).not.toContain(abandoned);
    const kept = all.filter((name) => name !== writing);
    expect(kept).toHaveLength(48);
    expect(kept.filter((name) => name.endsWith("-list.bin"))).toHaveLength(1);
    expect(kept.filter((name) => !name.endsWith("-list.bin"))).toEqual(old.slice(-47).sort());
  });
});
