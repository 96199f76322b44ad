import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { countingStore, writeCraftedBackup } from "../../test/support/catalog-stores.js";
import { blobNames } from "../format/backup-name.js";
import { catalogFactsFrom } from "../format/catalog-metadata.js";
import { LocalStore } from "../store/local.js";
import type { Store } from "../store/store.js";
import { listBackups } from "./listing.js";

async function freshStore() {
  return countingStore(new LocalStore(await mkdtemp(path.join(os.tmpdir(), "listing-"))));
}

/** A store whose writes of metadata are refused, as with credentials that may only read. */
function readOnlyMetadata(store: Store): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === "setMetadata") return async () => Promise.reject(new Error("403 This request is not authorized to perform this operation."));
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("listBackups", () => {
  it("reads a manifest whose facts are of another app, and lists it only if the manifest itself is this backup's", async () => {
    const store = await freshStore();
    const name = await writeCraftedBackup(store, { app: "shop", startedAt: new Date("2026-11-30T02:00:00Z"), withFacts: true });
    // The manifest's metadata rewritten to claim another app: the facts are not taken on trust.
    const manifest = blobNames(name).manifest;
    const facts = (await store.stat(manifest))!.metadata!;
    await store.setMetadata(manifest, { ...facts, appbackupapp: "blog" });
    store.reads.length = 0;
    const listed = await listBackups(store, { appName: "shop" });
    expect(listed.map((b) => [b.name, b.appName])).toEqual([[name, "shop"]]);
    expect(store.reads).toEqual([manifest]);
  });

  it("records the facts of a manifest made without them, so the next listing reads none; a read-only store lists the same", async () => {
    const store = await freshStore();
    const old = await writeCraftedBackup(store, { app: "shop", startedAt: new Date("2026-11-29T02:00:00Z"), withFacts: false });
    await writeCraftedBackup(store, { app: "shop", startedAt: new Date("2026-11-30T02:00:00Z"), withFacts: true });
    store.reads.length = 0;

    const readOnly = await listBackups(readOnlyMetadata(store), { appName: "shop" });
    expect(store.reads).toEqual([blobNames(old).manifest]);
    expect(catalogFactsFrom((await store.stat(blobNames(old).manifest))!.metadata)).toBeUndefined();

    store.reads.length = 0;
    expect(await listBackups(store, { appName: "shop", recordFacts: false })).toEqual(readOnly);
    expect(store.reads).toEqual([blobNames(old).manifest]);
    expect(catalogFactsFrom((await store.stat(blobNames(old).manifest))!.metadata)).toBeUndefined();

    store.reads.length = 0;
    expect(await listBackups(store, { appName: "shop" })).toEqual(readOnly);
    expect(store.reads).toEqual([blobNames(old).manifest]);
    expect(catalogFactsFrom((await store.stat(blobNames(old).manifest))!.metadata)).toMatchObject({ appName: "shop", status: "Succeeded" });

    store.reads.length = 0;
    expect(await listBackups(store, { appName: "shop" })).toEqual(readOnly);
    expect(store.reads).toEqual([]);
  });
});
