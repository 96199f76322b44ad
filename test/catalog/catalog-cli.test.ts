import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBackups, listingJson } from "../../core/catalog/listing.js";
import { loadConfig } from "../../core/config/load.js";
import { catalogFactsFrom } from "../../core/format/catalog-metadata.js";
import { openStore } from "../../core/store/open.js";
import { listAll, type Store } from "../../core/store/store.js";
import { makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { countingStore } from "../support/catalog-stores.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

async function storeOf(app: ScheduledApp): Promise<Store> {
  return openStore((await loadConfig(app.config, process.env)).backup.storage);
}

/** Re-writes every manifest of the container without metadata, as a backup made before manifests carried their facts. */
async function stripFacts(store: Store): Promise<number> {
  let stripped = 0;
  for (const object of await listAll(store)) {
    if (!object.name.endsWith(".xml")) continue;
    const data = await store.readAll(object.name);
    await store.delete(object.name);
    await store.put(object.name, data);
    stripped++;
  }
  for (const object of await listAll(store, undefined, { includeMetadata: true })) expect(catalogFactsFrom(object.metadata), object.name).toBeUndefined();
  return stripped;
}

describe.each([
  ["a local folder", () => mkdtemp(path.join(os.tmpdir(), "catalog-")).then((dir) => `file://${dir}`)],
  ["Azurite", async () => `{ connectionString: "${azurite.connectionString}", container: catalog${Date.now()} }`],
])("list in %s", (_, storage) => {
  it("lists the same backups, field by field, from the manifests' metadata and from the manifests themselves, each app on its own", async () => {
    const shared = await storage();
    const apps = Object.fromEntries(
      await Promise.all(["shop", "shop-eu", "shopping"].map(async (name) => [name, await makeScheduledApp({ app: name, storage: shared })] as const)),
    );
    const shop = apps.shop!;
    await ok(shop, ["backup"]);
    await ok(shop, ["backup", "--name", "shop_before-upgrade"]);
    await ok(shop, ["backup"]);
    await ok(apps["shop-eu"]!, ["backup"]);
    await ok(apps.shopping!, ["backup"]);

    const listed = await ok(shop, ["list"]);
    expect(listed.map((b: { app: string }) => b.app)).toEqual(["shop", "shop", "shop"]);
    expect(listed.map((b: { name: string }) => b.name)).toContain("shop_before-upgrade");
    for (const backup of listed) {
      expect(backup).toMatchObject({ status: "Succeeded", trigger: "OnDemand", files: 1, databases: 0, toolVersion: expect.any(String) });
      expect(backup.contentBytes).toBeGreaterThan(0);
    }
    const everyApp = await ok(shop, ["list", "--all-apps"]);
    expect(everyApp.map((b: { app: string }) => b.app)).toEqual(["shop", "shop", "shop", "shop-eu", "shopping"]);
    const text = await shop.run(["list", "--all-apps"]);
    expect(text.stdout).toMatch(/^shop \(3 backup\(s\)\):\n/);
    expect(text.stdout).toContain("\n\nshop-eu (1 backup(s)):\n");

    // Listed from metadata alone: no manifest is opened.
    const store = countingStore(await storeOf(shop));
    expect((await listBackups(store, { appName: "shop" })).length).toBe(3);
    expect(store.reads).toEqual([]);
    expect(store.lists.map((l) => l.prefix)).toEqual(["shop_"]);

    expect(await stripFacts(store)).toBe(5);
    store.reads.length = 0;
    // Old-style manifests are read, each once, and only the app's: the same listing, field by field.
    expect((await listBackups(store, { appName: "shop" })).map(listingJson)).toEqual(listed);
    expect(store.reads.filter((r) => r.endsWith(".xml")).sort()).toEqual(listed.map((b: { name: string }) => `${b.name}.xml`).sort());
    // The facts read are recorded on those manifests: the next listing opens none of them.
    store.reads.length = 0;
    expect((await listBackups(store, { appName: "shop" })).map(listingJson)).toEqual(listed);
    expect(store.reads).toEqual([]);
    expect(await ok(shop, ["list"])).toEqual(listed);
    expect(await ok(shop, ["list", "--all-apps"])).toEqual(everyApp);
  });
});

describe("backup --name", () => {
  it("refuses a name outside the app's naming scheme, saying what to use", async () => {
    const app = await makeScheduledApp();
    const run = await app.run(["backup", "--name", "release-1", "--json"]);
    expect(run.code).toBe(2);
    expect(run.json.error.code).toBe("USAGE");
    expect(run.stderr).toContain('--name "release-1" is not a name of shop\'s backups: they are named shop_…');
    expect(run.stderr).toContain("e.g. shop_before-upgrade");
  });
});

describe("restore and show --at", () => {
  it("take the newest restorable backup at or before the time, and refuse what cannot be chosen", async () => {
    const app = await makeScheduledApp({ schedule: "{ frequencyInterval: 1, frequencyUnit: Hour, startTime: '2030-01-01T00:00:00Z' }" });
    await ok(app, ["configure"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-01T23:00:00Z"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-02T00:00:00Z"]);

    expect((await ok(app, ["show", "--at", "2030-01-02T00:00Z"])).name).toBe("shop_20300102000000");
    expect((await ok(app, ["show", "--at", "2030-01-01T23:59:59Z"])).name).toBe("shop_20300101230000");
    expect((await ok(app, ["show", "--at", "2030-01-02T00:59:59+01:00"])).name).toBe("shop_20300101230000");
    expect((await ok(app, ["show", "latest"])).name).toBe("shop_20300102000000");
    const dry = await ok(app, ["restore", "--at", "2030-01-01T23:30:00Z", "--dry-run"]);
    expect(dry).toMatchObject({ backup: "shop_20300101230000", status: "DryRun" });

    const before = await app.run(["restore", "--at", "2030-01-01T22:59:59Z", "--dry-run", "--json"]);
    expect(before.code).toBe(12);
    expect(before.json.error.code).toBe("BACKUP_NOT_FOUND");
    expect(before.stderr).toContain("No restorable backup of shop at or before 2030-01-01T22:59:59.000Z");

    const both = await app.run(["restore", "shop_20300101230000", "--at", "2030-01-02T00:00Z", "--json"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--at cannot be combined with the backup shop_20300101230000");
    const neither = await app.run(["show", "--json"]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("Name the backup to show, or pass --from PATH, or give --at TIME.");
    const badTime = await app.run(["show", "--at", "yesterday", "--json"]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--at "yesterday" is not an ISO-8601 time with a zone');
  });
});
