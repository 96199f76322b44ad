import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../core/backup/backup.js";
import { claimNameOf } from "../../core/backup/reserve-name.js";
import { listBackups } from "../../core/catalog/catalog.js";
import { resolveConfig } from "../../core/config/load.js";
import type { AppBackupOptions } from "../../core/options.js";
import { verifyBackup } from "../../core/restore/verify.js";
import { LocalStore } from "../../core/store/local.js";
import { listAll, type Store } from "../../core/store/store.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { runCli } from "../support/cli.js";
import { directStore, freshContainer, makeHome, optionsFor } from "../support/fault-setup.js";

let azurite: Azurite;
let home: string;
beforeAll(async () => {
  azurite = await startAzurite();
  home = await makeHome();
});
afterAll(async () => {
  await azurite?.stop();
});

const at = new Date("2026-01-01T00:00:00.250Z");

const containers: Array<[string, () => Promise<{ options: AppBackupOptions; store: Store }>]> = [
  [
    "a local folder",
    async () => {
      const folder = await mkdtemp(path.join(os.tmpdir(), "same-second-"));
      return { options: resolveConfig({ name: "shop", home, backup: { storage: { path: folder } } }, { baseDir: folder }), store: new LocalStore(folder) };
    },
  ],
  [
    "Azure Blob Storage",
    async () => {
      const container = freshContainer("ss");
      const store = directStore(azurite, container);
      await store.check();
      return { options: optionsFor(home, azurite.connectionString, container), store };
    },
  ],
];

async function expectRestorable(options: AppBackupOptions, store: Store, names: string[]) {
  const listed = await listBackups(store, { appName: "shop" });
  expect(listed.map((l) => [l.name, l.status]).sort()).toEqual(names.map((n) => [n, "Succeeded"]).sort());
  for (const name of names) {
    expect(await verifyBackup(options, { backup: name, store, readData: true })).toMatchObject({ ok: true, restorable: true });
  }
  // Each name's claim is gone once the backup holds it: nothing else is left beside the backups.
  const objects = (await listAll(store)).map((o) => o.name).sort();
  expect(objects).toEqual(names.flatMap((n) => [`${n}.log`, `${n}.xml`, `${n}.zip`]).sort());
}

describe.each(containers)("backups of one app started in the same second, in %s", (_label, open) => {
  it("one after the other both succeed, the second as -2", async () => {
    const { options, store } = await open();
    const first = await runBackup(options, { now: at, store });
    const second = await runBackup(options, { now: at, store });
    expect([first.status, second.status]).toEqual(["Succeeded", "Succeeded"]);
    expect([first.name, second.name]).toEqual(["shop_20260101000000", "shop_20260101000000-2"]);
    await expectRestorable(options, store, [first.name, second.name]);
  });

  it("at the same moment both succeed under distinct names, neither damaging the other", async () => {
    const { options, store } = await open();
    const results = await Promise.all([0, 1, 2].map(() => runBackup(options, { now: at, store })));
    expect(results.map((r) => r.status)).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    const names = results.map((r) => r.name).sort();
    expect(names).toEqual(["shop_20260101000000", "shop_20260101000000-2", "shop_20260101000000-3"]);
    await expectRestorable(options, store, names);
  });

  it("a name given by the user that exists is refused, never overwritten", async () => {
    const { options, store } = await open();
    const first = await runBackup(options, { name: "shop_release-1", store });
    await expect(runBackup(options, { name: "shop_release-1", store })).rejects.toThrow(/A backup named shop_release-1 already exists/);
    await expectRestorable(options, store, [first.name]);
  });

  it("a scheduled backup waits out the claim of a run that was stopped and keeps its slot's name; an on-demand one moves on", async () => {
    const { options, store } = await open();
    const stamp = "shop_20260101000000";
    // The claim of a run that was stopped: taken, never renewed, never released.
    const stopped = await store.locker.tryLock(claimNameOf(stamp), { ttlMs: 1000, holder: "a Scheduled backup that was stopped" });
    expect(stopped.acquired).toBe(true);
    const onDemand = await runBackup(options, { now: at, store });
    expect(onDemand.name).toBe(`${stamp}-2`);
    const scheduled = await runBackup(options, { now: at, store, trigger: "Scheduled" });
    expect(scheduled.name).toBe(stamp);
    await expectRestorable(options, store, [stamp, `${stamp}-2`]);
  });

  it("a name given by the user that a running backup holds is refused; once that run stops, the name is free again", async () => {
    const { options, store } = await open();
    const running = await store.locker.tryLock(claimNameOf("shop_release-2"), { ttlMs: 60_000, holder: "a running backup" });
    if (!running.acquired) throw new Error("the claim could not be taken");
    await expect(runBackup(options, { name: "shop_release-2", store })).rejects.toMatchObject({
      code: "LOCKED",
      message: expect.stringMatching(/Another backup named shop_release-2 is running/),
    });
    expect(await listAll(store)).not.toContainEqual(expect.objectContaining({ name: expect.stringMatching(/^shop_release-2\./) }));
    await running.lock.release();
    const retried = await runBackup(options, { name: "shop_release-2", store });
    expect(retried.status).toBe("Succeeded");
    await expectRestorable(options, store, ["shop_release-2"]);
  });

  it("a name given by the user whose run was killed can be used again once its claim expires", async () => {
    const { options, store } = await open();
    const killed = await store.locker.tryLock(claimNameOf("shop_release-3"), { ttlMs: 1000, holder: "a backup that was killed" });
    expect(killed.acquired).toBe(true);
    const expiresAt = Date.now() + (store instanceof LocalStore ? 1000 : 15_000);
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 500));
    const retried = await runBackup(options, { name: "shop_release-3", store });
    expect(retried.status).toBe("Succeeded");
    await expectRestorable(options, store, ["shop_release-3"]);
  });
});

describe("the CLI run twice at once", () => {
  it("makes two backups with distinct names, both listed and verified", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "same-second-cli-"));
    const config = path.join(dir, "app-backup.yml");
    await writeFile(config, `name: shop\nhome: ${home}\nbackup:\n  storage: "file:./backups"\n`);
    const runs = await Promise.all([0, 1].map(() => runCli(["backup", "--config", config, "--json"])));
    for (const run of runs) {
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.code).toBe(0);
    }
    const names = runs.map((r) => r.json.name as string);
    expect(new Set(names).size).toBe(2);
    const list = await runCli(["list", "--config", config, "--json"]);
    expect(list.code).toBe(0);
    expect(list.json.map((b: { name: string; status: string }) => [b.name, b.status]).sort()).toEqual(names.map((n) => [n, "Succeeded"]).sort());
    for (const name of names) expect((await runCli(["verify", name, "--config", config, "--read-data"])).code).toBe(0);
    expect((await readdir(path.join(dir, "backups"))).filter((n) => !n.startsWith(".")).length).toBe(6);
  });
});
