import { truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCliMeasured } from "../support/cli.js";
import { metaEntry, plantCraftedBackup, type CraftedEntry } from "../support/crafted-backup.js";
import { backUp, leftovers, makeApp, treeFacts } from "../support/test-app.js";

const MiB = 1024 * 1024;
const MB = 1000 * 1000;

const zeros = (name: string, bytes: number, declaredSize?: number): CraftedEntry => ({ name, mode: 0o100644, content: { zeros: bytes }, declaredSize });

/**
 * Memory is what these tests measure: a zip's sizes are the archive's word,
 * and no word of it may decide how much a restore or a verification holds.
 * Bounds are generous (the CLI alone takes about 100 MB) and far below what
 * holding an entry whole would take.
 */
describe("inflating entries is bounded by memory, not by the sizes a zip declares", () => {
  it("verify --read-data reads two 896 MiB zero-filled entries of a 1.8 MB zip in little memory", async () => {
    const app = await makeApp();
    await plantCraftedBackup(app, "zeros", [metaEntry, zeros("fs/site/a.bin", 896 * MiB), zeros("fs/site/b.bin", 896 * MiB)]);

    const run = await runCliMeasured(["verify", "zeros", "--config", app.config, "--read-data", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const metaBytes = "bytes" in metaEntry.content ? metaEntry.content.bytes.length : 0;
    expect(run.json).toMatchObject({ ok: true, entriesRead: 3, bytesRead: 2 * 896 * MiB + metaBytes });
    expect(run.peakRssBytes).toBeLessThan(300 * MB);
  });

  it("verify --read-data and restore do not read the 300 MiB no entry claims between two small entries", async () => {
    const app = await makeApp();
    const small: CraftedEntry = { name: "fs/site/small.txt", mode: 0o100644, content: { bytes: Buffer.from("small") }, gapAfter: 300 * MiB };
    await plantCraftedBackup(app, "gap", [metaEntry, small, { name: "fs/site/after.txt", mode: 0o100644, content: { bytes: Buffer.from("after") } }]);

    const verify = await runCliMeasured(["verify", "gap", "--config", app.config, "--read-data", "--json"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json).toMatchObject({ ok: true, entriesRead: 3 });
    expect(verify.peakRssBytes).toBeLessThan(250 * MB);

    const restore = await runCliMeasured(["restore", "gap", "--config", app.config, "--json"]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(Object.keys(treeFacts(app.home)).sort()).toEqual(["site/", "site/after.txt", "site/small.txt"]);
    expect(restore.peakRssBytes).toBeLessThan(250 * MB);
  });

  it("restore writes a 200 MiB zero-filled file backed up by app-backup in little memory", async () => {
    const app = await makeApp();
    const big = path.join(app.home, "site/wwwroot/big.bin");
    await truncate(await writeFile(big, "").then(() => big), 200 * MiB);
    const name = await backUp(app);
    const backedUp = treeFacts(app.home);
    await writeFile(big, "changed after the backup");

    const run = await runCliMeasured(["restore", name, "--config", app.config, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(treeFacts(app.home)).toEqual(backedUp);
    expect(run.peakRssBytes).toBeLessThan(220 * MB);
  });
});

describe("an entry that inflates to more than it declares is refused", () => {
  /** Restoring must stop with BACKUP_CORRUPT naming the entry, within `maxRss`, and leave the home as it was. */
  async function expectBombRefused(bomb: CraftedEntry, maxRss: number) {
    const app = await makeApp();
    await plantCraftedBackup(app, "bomb", [metaEntry, zeros("fs/site/small.txt", 10), bomb]);
    const before = treeFacts(app.home);

    const run = await runCliMeasured(["restore", "bomb", "--config", app.config, "--json"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.json).toMatchObject({ status: "Failed", error: { code: "BACKUP_CORRUPT" } });
    expect(run.json.error.message).toContain(bomb.name);
    expect(run.json.error.message).toMatch(/inflates to more than/);
    expect(run.json.error.message).toContain("nothing was changed");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(treeFacts(app.home)).toEqual(before);
    expect(leftovers(app.home)).toEqual([]);
    expect(run.peakRssBytes).toBeLessThan(maxRss);

    const verify = await runCliMeasured(["verify", "bomb", "--config", app.config, "--read-data", "--json"]);
    expect(verify.code, verify.stderr).toBe(4);
    expect(verify.json.differences).toContainEqual({ name: bomb.name, difference: expect.stringMatching(/inflates to more than/) });
    expect(verify.peakRssBytes).toBeLessThan(maxRss);
  }

  it("a small entry (declared 1000 bytes) that holds 64 MiB", async () => {
    await expectBombRefused(zeros("fs/site/bomb.bin", 64 * MiB, 1000), 300 * MB);
  });

  it("a large entry (declared 600 MiB) that holds 1 GiB", async () => {
    await expectBombRefused(zeros("fs/site/bomb.bin", 1024 * MiB, 600 * MiB), 300 * MB);
  });
});

describe("content that restore holds whole is bounded", () => {
  it("a meta entry of 200 MiB is refused unread, in little memory, and nothing changes", async () => {
    const app = await makeApp();
    await plantCraftedBackup(app, "fat-meta", [zeros("meta", 200 * MiB), zeros("fs/site/small.txt", 10)]);
    const before = treeFacts(app.home);

    const run = await runCliMeasured(["restore", "fat-meta", "--config", app.config, "--json"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.json).toMatchObject({ status: "Failed", error: { code: "BACKUP_CORRUPT" } });
    expect(run.json.error.message).toMatch(/meta .*declares 209715200 bytes, more than the 16777216 such an entry may have.*nothing was changed/);
    expect(treeFacts(app.home)).toEqual(before);
    expect(leftovers(app.home)).toEqual([]);
    expect(run.peakRssBytes).toBeLessThan(250 * MB);
  });
});
