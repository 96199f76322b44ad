import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { AppBackupError } from "../../core/errors.js";
import { AzureBlobStore } from "../../core/store/azure.js";
import { LocalStore } from "../../core/store/local.js";
import type { Store } from "../../core/store/store.js";
import { withAppLock } from "../../core/schedule/lock.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

let containers = 0;
const backends: Array<[string, () => Promise<Store>]> = [
  ["local folder", async () => new LocalStore(await mkdtemp(path.join(os.tmpdir(), "lock-")))],
  [
    "Azure Blob lease",
    async () => new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container: `lock${Date.now()}${containers++}` }),
  ],
];

describe.each(backends)("%s lock", (_label, open) => {
  it("is held by one holder at a time and can be taken again once released", async () => {
    const store = await open();
    await store.check();
    const first = await store.locker.tryLock("shop.lock", { ttlMs: 60_000, holder: "runner A" });
    expect(first.acquired).toBe(true);
    const second = await store.locker.tryLock("shop.lock", { ttlMs: 60_000, holder: "runner B" });
    expect(second).toMatchObject({ acquired: false, holder: "runner A" });
    if (!first.acquired) return;
    await first.lock.renew();
    await first.lock.release();
    const third = await store.locker.tryLock("shop.lock", { ttlMs: 60_000, holder: "runner C" });
    expect(third.acquired).toBe(true);
    if (third.acquired) await third.lock.release();
  });

  it("goes to exactly one of many holders asking at once", async () => {
    const store = await open();
    await store.check();
    const attempts = await Promise.all(Array.from({ length: 12 }, (_, i) => store.locker.tryLock("race.lock", { ttlMs: 60_000, holder: `runner ${i}` })));
    const winners = attempts.filter((a) => a.acquired);
    expect(winners).toHaveLength(1);
    for (const attempt of attempts) if (attempt.acquired) await attempt.lock.release();
  });

  it("withAppLock refuses a second runner with a LOCKED error naming the holder, and frees the lock afterwards", async () => {
    const store = await open();
    await store.check();
    let ran = false;
    await withAppLock(
      store,
      "shop",
      async () => {
        const error = await withAppLock(store, "shop", async () => (ran = true), { purpose: "second" }).catch((e: unknown) => e as AppBackupError);
        expect(error).toBeInstanceOf(AppBackupError);
        expect((error as AppBackupError).code).toBe("LOCKED");
        expect((error as AppBackupError).message).toMatch(/Another runner holds the lock of shop \(first \(pid \d+ on .+\)/);
      },
      { purpose: "first" },
    );
    expect(ran).toBe(false);
    expect(await withAppLock(store, "shop", async () => "ran")).toBe("ran");
  });
});

describe("local lock expiry", () => {
  it("an expired lock is taken over by exactly one of the runners that find it expired, and its old holder learns it lost it", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "lock-"));
    const store = new LocalStore(root);
    const crashed = await store.locker.tryLock("shop.lock", { ttlMs: 200, holder: "crashed runner" });
    expect(crashed.acquired).toBe(true);
    await sleep(400);
    const takers = await Promise.all(Array.from({ length: 12 }, (_, i) => store.locker.tryLock("shop.lock", { ttlMs: 60_000, holder: `runner ${i}` })));
    expect(takers.filter((t) => t.acquired)).toHaveLength(1);
    if (crashed.acquired) {
      const error = (await crashed.lock.renew().catch((e: unknown) => e)) as AppBackupError;
      expect(error.code).toBe("LOCKED");
      expect(error.message).toMatch(/expired before it was renewed and was taken by runner \d+/);
    }
    // Only the winner's generation is left, with its holder, pid and host in it.
    const files = (await readdir(root)).filter((f) => f.startsWith("shop.lock"));
    expect(files).toHaveLength(1);
    const record = JSON.parse(await readFile(path.join(root, files[0]!), "utf8"));
    expect(record).toMatchObject({ holder: expect.stringMatching(/^runner \d+$/), pid: process.pid, host: os.hostname() });
  });

  it("is kept alive by withAppLock's renewals while the work runs longer than its time-to-live", async () => {
    const store = new LocalStore(await mkdtemp(path.join(os.tmpdir(), "lock-")));
    const refusals: boolean[] = [];
    await withAppLock(
      store,
      "shop",
      async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(1500);
          refusals.push(!(await store.locker.tryLock("shop.lock", { ttlMs: 1000, holder: "intruder" })).acquired);
        }
      },
      { ttlMs: 3000 },
    );
    expect(refusals).toEqual([true, true, true]);
  });

  it("treats an unreadable lock file as expired", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "lock-"));
    await writeFile(path.join(root, "shop.lock.4"), "not json");
    const attempt = await new LocalStore(root).locker.tryLock("shop.lock", { ttlMs: 60_000, holder: "runner" });
    expect(attempt.acquired).toBe(true);
    expect((await readdir(root)).filter((f) => f.startsWith("shop.lock"))).toEqual(["shop.lock.5"]);
  });
});
