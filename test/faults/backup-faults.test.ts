import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runBackup } from "../../core/backup/backup.js";
import { AppBackupError } from "../../core/errors.js";
import { storeConfiguration } from "../../core/schedule/configure.js";
import { lockNameFor } from "../../core/schedule/lock.js";
import { runScheduled } from "../../core/schedule/run.js";
import { readStoredConfiguration } from "../../core/schedule/stored-config.js";
import { AzureBlobStore } from "../../core/store/azure.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { faultKinds, startFaultProxy, type FaultKind, type FaultProxy, type FaultRule } from "../support/fault-proxy.js";
import { directStore, expectStorageAgrees, freshContainer, makeHome, optionsFor, useFaultEnv, type Outcome } from "../support/fault-setup.js";

let azurite: Azurite;
let proxy: FaultProxy;
let home: string;

beforeAll(async () => {
  useFaultEnv();
  azurite = await startAzurite();
  proxy = await startFaultProxy(azurite);
  home = await makeHome();
});
afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});
beforeEach(() => proxy.reset());

/** Every write a backup makes, in the order it makes them. */
const isClaim = (request: { blob: string }) => request.blob.startsWith("claim.");
const backupWrites: Array<[string, Omit<FaultRule, "kind">]> = [
  ["name claim's object", { method: "PUT", comp: "none", where: isClaim }],
  ["name claim's lease", { method: "PUT", comp: "lease", where: isClaim }],
  ["staged zip block", { method: "PUT", comp: "block", blobSuffix: ".zip" }],
  ["zip block-list commit", { method: "PUT", comp: "blocklist", blobSuffix: ".zip" }],
  ["log", { method: "PUT", comp: "none", blobSuffix: ".log" }],
  ["staged manifest block", { method: "PUT", comp: "block", blobSuffix: ".xml" }],
  ["manifest block-list commit", { method: "PUT", comp: "blocklist", blobSuffix: ".xml" }],
  ["claim removal", { method: "DELETE", where: isClaim }],
];

/** A fault that the service refuses for good; every other kind passes once retried. */
const isLasting = (kind: FaultKind) => kind === "403";

async function outcomeOf(work: () => Promise<{ status: string; name: string }>): Promise<Outcome> {
  try {
    const result = await work();
    return { status: result.status, name: result.name };
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(AppBackupError);
    return { error: error as Error };
  }
}

describe.each(backupWrites)("a backup whose %s meets", (write, pattern) => {
  it.each(faultKinds.map((kind) => [kind]))("%s", async (kind) => {
    const container = freshContainer("bw");
    const options = optionsFor(home, proxy.connectionString, container);
    await directStore(azurite, container).check();
    proxy.inject({ ...pattern, kind });

    const outcome = await outcomeOf(() => runBackup(options));

    expect(proxy.fired, "the fault was never met").toBe(1);
    if (write === "claim removal") {
      // The zip and manifest hold the name by then: a claim left behind changes nothing the user sees.
      expect(outcome).toMatchObject({ status: "Succeeded" });
    } else if (isLasting(kind)) {
      expect("error" in outcome ? outcome.error.message : outcome.status).toMatch(/refused|Failed/);
    } else {
      expect(outcome).toMatchObject({ status: "Succeeded" });
    }
    proxy.reset();
    await expectStorageAgrees(options, directStore(azurite, container), outcome);
  });
});

describe("a backup whose claim cannot be removed", () => {
  it("still succeeds: its zip and manifest hold the name", async () => {
    const container = freshContainer("cr");
    const options = optionsFor(home, proxy.connectionString, container);
    await directStore(azurite, container).check();
    proxy.inject({ method: "DELETE", where: isClaim, kind: "403", times: Infinity });
    const result = await runBackup(options);
    expect(result.status).toBe("Succeeded");
    proxy.reset();
    await expectStorageAgrees(options, directStore(azurite, container), { status: result.status, name: result.name });
  });
});

describe("a scheduled configuration document written by configure that meets", () => {
  it.each(faultKinds.map((kind) => [kind]))("%s", async (kind) => {
    const container = freshContainer("cf");
    const options = optionsFor(home, proxy.connectionString, container, { backup: { schedule: { frequencyInterval: 1, frequencyUnit: "Day" } } });
    proxy.inject({ method: "PUT", blobSuffix: ".backup-config.json", kind });

    const outcome = await storeConfiguration(options).then(
      (result) => ({ stored: result.document }),
      (error: unknown) => ({ error: error as Error }),
    );

    expect(proxy.fired).toBe(1);
    proxy.reset();
    const stored = await readStoredConfiguration(directStore(azurite, container), "shop");
    if ("error" in outcome) {
      expect(outcome.error).toBeInstanceOf(AppBackupError);
      expect(isLasting(kind), `${kind} should have been retried`).toBe(true);
      expect(stored).toBeUndefined();
    } else {
      expect(isLasting(kind)).toBe(false);
      expect(stored).toEqual(JSON.parse(JSON.stringify(outcome.stored)));
    }
  });
});

/** What run-scheduled touches that a fault can break: the lease of the app's lock, and the stored document it reads. */
const scheduledRequests: Array<[string, Omit<FaultRule, "kind">]> = [
  ["lease on the app's lock", { method: "PUT", comp: "lease", blobSuffix: ".lock" }],
  ["lock blob creation", { method: "PUT", comp: "none", blobSuffix: ".lock" }],
  ["read of the stored configuration", { method: "GET", blobSuffix: ".backup-config.json" }],
];

describe.each(scheduledRequests)("a scheduled run whose %s meets", (_what, pattern) => {
  it.each(faultKinds.map((kind) => [kind]))("%s", async (kind) => {
    const container = freshContainer("rs");
    const options = optionsFor(home, proxy.connectionString, container, { backup: { schedule: { frequencyInterval: 1, frequencyUnit: "Day" } } });
    const checkStore = directStore(azurite, container);
    await storeConfiguration(options, { store: checkStore });
    proxy.inject({ ...pattern, kind });

    const outcome = await outcomeOf(async () => {
      const result = await runScheduled(options, { lockTtlMs: 15_000 });
      expect(result.due).toBe(true);
      return result.backup!;
    });

    expect(proxy.fired).toBe(1);
    if (!isLasting(kind)) expect(outcome).toMatchObject({ status: "Succeeded" });
    proxy.reset();
    await expectStorageAgrees(options, checkStore, outcome);
    // The lock is free again: a run that failed or succeeded must not leave its lease behind.
    const attempt = await checkStore.locker.tryLock(lockNameFor("shop"), { ttlMs: 15_000, holder: "checker" });
    expect(attempt.acquired, "the app's lock was left held").toBe(true);
    if (attempt.acquired) await attempt.lock.release();
  });
});

describe("a lost reply to a write that succeeded", () => {
  it("is recognised by its write token, while a real collision is still refused", async () => {
    const container = freshContainer("tk");
    const store = new AzureBlobStore({ kind: "azure-connection-string", connectionString: proxy.connectionString, container });
    await store.check();
    proxy.inject({ method: "PUT", blobSuffix: "a.txt", kind: "drop-reply" });
    expect(await store.create("a.txt", "mine")).toBe(true);
    expect(proxy.seen.filter((r) => r.blob === "a.txt").length).toBeGreaterThan(1);
    expect(await store.create("a.txt", "theirs")).toBe(false);
    await expect(store.put("a.txt", "theirs")).rejects.toThrow(/already exists and is never overwritten/);
    expect((await directStore(azurite, container).readAll("a.txt")).toString()).toBe("mine");
  });
});
