import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runBackup } from "../backup/backup.js";
import { listBackups } from "../catalog/catalog.js";
import { resolveConfig } from "../config/load.js";
import type { AppBackupOptions } from "../options.js";
import { LocalStore } from "../store/local.js";
import type { Store } from "../store/store.js";
import { storeConfiguration } from "./configure.js";
import { lockNameFor } from "./lock.js";
import { pruneApp, pruneBackups } from "./prune.js";
import { runScheduled } from "./run.js";
import { storedConfigurationName } from "./stored-config.js";

const stopped = new Error("stopped by the test");

async function localApp(schedule?: Record<string, unknown>): Promise<{ options: AppBackupOptions; store: LocalStore; folder: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "abort-"));
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(path.join(home, `site/wwwroot/page-${i}.html`), `<p>${i}</p>\n`);
  const folder = path.join(dir, "backups");
  const options = resolveConfig({ name: "shop", home, backup: { storage: { path: folder }, ...(schedule ? { schedule } : {}) } }, { baseDir: dir });
  return { options, store: new LocalStore(folder), folder };
}

/** Every file in the container, hidden temporary files and lock generations included. */
async function filesIn(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [] as string[])).sort();
}

/** The store, with `onDelete` told of each deletion before it happens. */
function watchingDeletes(store: Store, onDelete: (name: string) => void): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === "delete") {
        return (name: string, options?: { abortSignal?: AbortSignal }) => {
          onDelete(name);
          return target.delete(name, options);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("an aborted backup", () => {
  it("stops before its zip is committed, discards the staged upload and gives its name back", async () => {
    const { options, store, folder } = await localApp();
    const controller = new AbortController();
    const at = new Date("2031-02-03T04:05:06Z");
    await expect(runBackup(options, { now: at, store, signal: controller.signal, onNameClaimed: () => controller.abort(stopped) })).rejects.toBe(stopped);
    expect(await filesIn(folder)).toEqual([]);
    // The name is free again at once: the claim was given up, not left to expire.
    const again = await runBackup(options, { now: at, store });
    expect(again).toMatchObject({ name: "shop_20310203040506", status: "Succeeded" });
  });

  it("stops between content entries", async () => {
    const { options, store, folder } = await localApp();
    const controller = new AbortController();
    const run = runBackup(options, {
      store,
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.phase === "content") controller.abort(stopped);
      },
    });
    await expect(run).rejects.toBe(stopped);
    expect(await filesIn(folder)).toEqual([]);
  });

  it("does not start when aborted already", async () => {
    const { options, store, folder } = await localApp();
    await expect(runBackup(options, { store, signal: AbortSignal.abort(stopped) })).rejects.toBe(stopped);
    expect(await filesIn(folder)).toEqual([]);
  });
});

describe("an aborted scheduled run", () => {
  it("leaves no backup, prunes nothing and releases the app's lock", async () => {
    const { options, store } = await localApp({ frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 1 });
    await storeConfiguration(options, { store, now: new Date("2031-01-01T00:00:00Z") });
    const older = await runBackup(options, { store, trigger: "Scheduled", now: new Date("2031-01-01T00:00:00Z") });
    const old = await runBackup(options, { store, trigger: "Scheduled", now: new Date("2031-01-02T00:00:00Z") });
    const controller = new AbortController();
    const run = runScheduled(options, { store, now: new Date("2031-03-01T00:00:00Z"), signal: controller.signal, onNameClaimed: () => controller.abort(stopped) });
    await expect(run).rejects.toBe(stopped);
    // Retention would have deleted the older one had the run gone on.
    expect((await listBackups(store)).map((b) => b.name)).toEqual([old.name, older.name]);
    const lock = await store.locker.tryLock(lockNameFor("shop"), { ttlMs: 60_000, holder: "the next runner" });
    expect(lock.acquired).toBe(true);
    if (lock.acquired) await lock.lock.release();
  });
});

describe("an aborted prune", () => {
  it("stops between backups: the one being deleted goes whole, the rest stay whole", async () => {
    const { options, store, folder } = await localApp({ frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 1 });
    const first = await runBackup(options, { store, trigger: "Scheduled", now: new Date("2031-01-01T00:00:00Z") });
    const second = await runBackup(options, { store, trigger: "Scheduled", now: new Date("2031-01-02T00:00:00Z") });
    await runBackup(options, { store, trigger: "Scheduled", now: new Date("2031-03-01T00:00:00Z") });
    const controller = new AbortController();
    const watched = watchingDeletes(store, () => controller.abort(stopped));
    const policy = { retentionPeriodInDays: 1, keepAtLeastOneBackup: true, tiered: false };
    const prune = pruneBackups(watched, "shop", policy, { now: new Date("2031-03-01T12:00:00Z"), signal: controller.signal });
    await expect(prune).rejects.toBe(stopped);
    const left = await filesIn(folder);
    const whole = (name: string) => ["zip", "xml", "log"].every((ext) => left.includes(`${name}.${ext}`));
    const gone = (name: string) => ["zip", "xml", "log"].every((ext) => !left.includes(`${name}.${ext}`));
    // Which one goes first is retention's business; exactly one is gone, entirely.
    expect([first.name, second.name].filter(gone)).toHaveLength(1);
    expect([first.name, second.name].filter(whole)).toHaveLength(1);
  });

  it("through pruneApp, does nothing when aborted before it starts", async () => {
    const { options, store } = await localApp({ frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 1 });
    await storeConfiguration(options, { store });
    const old = await runBackup(options, { store, trigger: "Scheduled", now: new Date("2031-01-01T00:00:00Z") });
    await runBackup(options, { store, trigger: "Scheduled" });
    await expect(pruneApp(options, { lockTtlMs: 60_000, signal: AbortSignal.abort(stopped) })).rejects.toBe(stopped);
    expect((await listBackups(store)).map((b) => b.name)).toContain(old.name);
    expect(await store.exists(storedConfigurationName("shop"))).toBe(true);
    const lock = await store.locker.tryLock(lockNameFor("shop"), { ttlMs: 60_000, holder: "the next runner" });
    expect(lock.acquired).toBe(true);
  });
});
