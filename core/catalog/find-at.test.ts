import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { countingStore, writeCraftedBackup, type CraftedBackup } from "../../test/support/catalog-stores.js";
import { LocalStore } from "../store/local.js";
import { findBackupAt, isRestorable } from "./find-at.js";
import { listBackups } from "./listing.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);
const second = 1000;

async function freshStore() {
  return countingStore(new LocalStore(await mkdtemp(path.join(os.tmpdir(), "find-at-"))));
}

/** A folder seen as blob storage sees it: no listing of names, so every question about a prefix is a request. */
async function freshStoreAskingEachPrefix() {
  return Object.assign(await freshStore(), { listNames: undefined });
}

async function storeWith(backups: Array<Omit<CraftedBackup, "app" | "withFacts"> & { withFacts?: boolean }>) {
  const store = await freshStore();
  for (const b of backups) await writeCraftedBackup(store, { app: "shop", withFacts: true, ...b });
  store.reads.length = 0;
  store.lists.length = 0;
  return store;
}

const at = (iso: string) => new Date(iso);

/** The answer from the whole listing: the newest restorable backup started at or before `time`. */
async function bruteForce(store: LocalStore | ReturnType<typeof countingStore>, time: Date | undefined) {
  const all = await listBackups(store, { appName: "shop" });
  return all.find((b) => isRestorable(b) && (time === undefined || b.startedAt <= time))?.name;
}

describe("findBackupAt", () => {
  it("takes a backup started exactly at the time, and the one before it one second earlier", async () => {
    const store = await storeWith([{ startedAt: at("2026-11-30T01:00:00Z") }, { startedAt: at("2026-11-30T02:00:00Z") }]);
    expect((await findBackupAt(store, "shop", at("2026-11-30T02:00:00Z")))?.name).toBe("shop_20261130020000");
    expect((await findBackupAt(store, "shop", at("2026-11-30T01:59:59Z")))?.name).toBe("shop_20261130010000");
    expect((await findBackupAt(store, "shop", undefined))?.name).toBe("shop_20261130020000");
  });

  it("finds nothing before the first backup, and nothing in an empty container", async () => {
    const store = await storeWith([{ startedAt: at("2026-11-30T02:00:00Z") }]);
    expect(await findBackupAt(store, "shop", at("2026-11-30T01:59:59Z"))).toBeUndefined();
    expect(await findBackupAt(await freshStore(), "shop", undefined)).toBeUndefined();
  });

  it("skips a Failed backup at the chosen time for the restorable one before it", async () => {
    const store = await storeWith([{ startedAt: at("2026-11-30T01:00:00Z") }, { startedAt: at("2026-11-30T02:00:00Z"), status: "Failed" }]);
    expect((await findBackupAt(store, "shop", at("2026-11-30T02:00:00Z")))?.name).toBe("shop_20261130010000");
  });

  it("takes the -2 backup of the same second as the newer one", async () => {
    const store = await storeWith([
      { startedAt: at("2026-11-30T02:00:00.100Z") },
      { startedAt: at("2026-11-30T02:00:00.600Z"), sequence: 2 },
    ]);
    expect((await findBackupAt(store, "shop", at("2026-11-30T02:00:00.999Z")))?.name).toBe("shop_20261130020000-2");
    // Started within the second but after the time asked for.
    expect((await findBackupAt(store, "shop", at("2026-11-30T02:00:00.300Z")))?.name).toBe("shop_20261130020000");
  });

  it("goes back across a day, a month and a year", async () => {
    const store = await storeWith([
      { startedAt: at("2025-12-31T23:00:00Z") },
      { startedAt: at("2026-01-31T23:59:59Z") },
      { startedAt: at("2026-02-28T23:59:59Z") },
    ]);
    expect((await findBackupAt(store, "shop", at("2026-01-01T00:00:00Z")))?.name).toBe("shop_20251231230000");
    expect((await findBackupAt(store, "shop", at("2026-02-01T00:30:00Z")))?.name).toBe("shop_20260131235959");
    expect((await findBackupAt(store, "shop", at("2026-03-01T00:00:00Z")))?.name).toBe("shop_20260228235959");
  });

  it("never takes another app's backup, even when its name starts with this app's", async () => {
    const store = await storeWith([{ startedAt: at("2026-11-30T01:00:00Z") }]);
    await writeCraftedBackup(store, { app: "shop-eu", startedAt: at("2026-11-30T02:00:00Z"), withFacts: true });
    expect((await findBackupAt(store, "shop", undefined))?.name).toBe("shop_20261130010000");
  });

  it("reads no manifest of a backup that carries its facts, and lists only one day whole", async () => {
    const hours = Array.from({ length: 72 }, (_, i) => ({ startedAt: new Date(Date.UTC(2026, 10, 28) + i * 3_600_000) }));
    const store = Object.assign(await storeWith(hours), { listNames: undefined });
    const found = await findBackupAt(store, "shop", at("2026-11-29T12:30:00Z"));
    expect(found?.name).toBe("shop_20261129120000");
    expect(store.reads).toEqual([]);
    const whole = store.lists.filter((l) => l.options?.pageSize !== 1);
    expect(whole.map((l) => l.prefix)).toEqual(["shop_20261129"]);
  });

  it("reads old backups without facts newest first, only until one is restorable", async () => {
    const store = await storeWith([
      { startedAt: at("2026-11-30T01:00:00Z"), withFacts: false },
      { startedAt: at("2026-11-30T02:00:00Z"), withFacts: false },
      { startedAt: at("2026-11-30T03:00:00Z"), withFacts: false, status: "Failed" },
    ]);
    expect((await findBackupAt(store, "shop", undefined))?.name).toBe("shop_20261130020000");
    expect(store.reads).toEqual(["shop_20261130030000.xml", "shop_20261130020000.xml"]);
  });

  it("asks a folder for the app's names once, and looks only at the files of the backup it takes", async () => {
    const hours = Array.from({ length: 72 }, (_, i) => ({ startedAt: new Date(Date.UTC(2026, 10, 28) + i * 3_600_000) }));
    const store = await storeWith(hours);
    const listNames = vi.spyOn(store, "listNames");
    const stat = vi.spyOn(store, "stat");
    expect((await findBackupAt(store, "shop", undefined))?.name).toBe("shop_20261130230000");
    expect(listNames.mock.calls.map(([prefix]) => prefix)).toEqual(["shop_"]);
    expect(store.lists).toEqual([]);
    expect(stat.mock.calls.map(([name]) => name).sort()).toEqual(["shop_20261130230000.log", "shop_20261130230000.xml", "shop_20261130230000.zip"]);
    expect(store.reads).toEqual([]);
  });

  it.each([
    ["a folder, its names listed once", freshStore],
    ["a container asked about each prefix", freshStoreAskingEachPrefix],
  ])("answers as the whole listing does, for any set of backups and any time: %s", async (_kind, makeStore) => {
    const backup = fc.record({
      // Seconds within about two years around a year boundary, so days, months and years all turn.
      offset: fc.integer({ min: 0, max: 2 * 365 * 86_400 }),
      status: fc.constantFrom("Succeeded", "PartiallySucceeded", "Failed"),
      withFacts: fc.boolean(),
      sameSecond: fc.boolean(),
    });
    const base = Date.UTC(2025, 0, 1);
    await fc.assert(
      fc.asyncProperty(fc.array(backup, { maxLength: 12 }), fc.option(fc.integer({ min: -86_400, max: 2 * 365 * 86_400 + 86_400 })), async (backups, query) => {
        const store = await makeStore();
        const inSecond = new Map<number, number>();
        const withoutFacts = new Set<string>();
        for (const b of backups) {
          const count = inSecond.get(b.offset) ?? 0;
          if (count >= 2 || (count === 1 && !b.sameSecond)) continue;
          inSecond.set(b.offset, count + 1);
          const name = await writeCraftedBackup(store, {
            app: "shop",
            // A -2 backup starts later within the same second.
            startedAt: new Date(base + b.offset * second + (count === 0 ? 100 : 600)),
            sequence: count + 1,
            status: b.status as CraftedBackup["status"],
            withFacts: b.withFacts,
          });
          if (!b.withFacts) withoutFacts.add(`${name}.xml`);
        }
        const time = query === null ? undefined : new Date(base + query * second + 300);
        const expected = await bruteForce(store, time);
        store.reads.length = 0;
        const found = await findBackupAt(store, "shop", time);
        expect(found?.name).toBe(expected);
        // Only manifests without facts are ever opened.
        for (const read of store.reads) expect(withoutFacts).toContain(read);
      }),
      { seed, numRuns: 60 },
    );
  });
});
