import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { countingStore } from "../../test/support/catalog-stores.js";
import { AppBackupError } from "../errors.js";
import type { BackupManifest } from "../format/manifest.js";
import { manifestToXml } from "../format/manifest-xml.js";
import { LocalStore } from "../store/local.js";
import { readCheckedManifestTable } from "./manifests.js";

const name = "shop_20261130020000";

function manifestWith(entryCount: number, appName = "shop"): BackupManifest {
  const entries: BackupManifest["entries"] = Array.from({ length: entryCount }, (_, i) => ({
    name: `fs/site/wwwroot/file-${i}.html`,
    kind: "file",
    size: 10,
    compressedSize: 10,
    method: "store",
    crc32: i,
    sha256: "ab".repeat(32),
    mtime: new Date("2026-11-30T02:00:00Z"),
    mode: 0o100644,
  }));
  return {
    formatVersion: 1,
    appName,
    backupName: name,
    status: "Succeeded",
    trigger: "OnDemand",
    startedAt: new Date("2026-11-30T02:00:00Z"),
    finishedAt: new Date("2026-11-30T02:00:01Z"),
    toolVersion: "0.1.0",
    zip: { name: `${name}.zip`, sizeBytes: 1 },
    contentBytes: entryCount * 10,
    files: entryCount,
    origin: {},
    filter: { source: "", lines: [] },
    warnings: [],
    databases: [],
    skipped: [],
    entries,
  };
}

async function storeHolding(xml: string) {
  const store = countingStore(new LocalStore(await mkdtemp(path.join(os.tmpdir(), "manifests-"))));
  await store.put(`${name}.xml`, xml);
  store.reads.length = 0;
  return store;
}

const otherApp = (summary: { appName: string }) => {
  if (summary.appName !== "shop") throw new AppBackupError("BACKUP_CORRUPT", `a backup of ${summary.appName}`);
};

describe("readCheckedManifestTable", () => {
  it("reads a small manifest once, checking its head before its entries", async () => {
    const store = await storeHolding(manifestToXml(manifestWith(3)));
    const check = vi.fn(otherApp);
    const { summary, table } = await readCheckedManifestTable(store, name, check);
    expect(summary.appName).toBe("shop");
    expect(table.toEntries().map((e) => e.name)).toEqual(["fs/site/wwwroot/file-0.html", "fs/site/wwwroot/file-1.html", "fs/site/wwwroot/file-2.html"]);
    expect(store.reads).toEqual([`${name}.xml`]);
    expect(check).toHaveBeenCalledWith(expect.objectContaining({ appName: "shop" }));
  });

  it("reads a large manifest by its head first, and not in full when the head is refused", async () => {
    const xml = manifestToXml(manifestWith(12_000));
    expect(Buffer.byteLength(xml)).toBeGreaterThan(1024 * 1024);
    const store = await storeHolding(xml);
    const { table } = await readCheckedManifestTable(store, name, otherApp);
    expect(table.count).toBe(12_000);
    expect(store.reads).toEqual([`${name}.xml`, `${name}.xml`]);

    const foreign = await storeHolding(manifestToXml(manifestWith(12_000, "other")));
    await expect(readCheckedManifestTable(foreign, name, otherApp)).rejects.toThrow(/a backup of other/);
    expect(foreign.reads).toEqual([`${name}.xml`]);
  });

  it("refuses an object that is not a manifest, and a manifest named after another backup, small or large", async () => {
    for (const entryCount of [1, 12_000]) {
      const renamed = { ...manifestWith(entryCount), backupName: "shop_20261129020000" };
      await expect(readCheckedManifestTable(await storeHolding(manifestToXml(renamed)), name, otherApp)).rejects.toMatchObject({
        code: "BACKUP_CORRUPT",
        message: expect.stringMatching(/names backup "shop_20261129020000"/),
      });
    }
    await expect(readCheckedManifestTable(await storeHolding("PK\u0003\u0004 not xml"), name, otherApp)).rejects.toMatchObject({
      code: "BACKUP_CORRUPT",
      message: expect.stringMatching(/is not an app-backup manifest/),
    });
    await expect(readCheckedManifestTable(await storeHolding(""), name, otherApp)).rejects.toMatchObject({ code: "BACKUP_CORRUPT", message: expect.stringMatching(/it is empty/) });
  });

  it("says no backup has the name when there is no manifest", async () => {
    const store = countingStore(new LocalStore(await mkdtemp(path.join(os.tmpdir(), "manifests-"))));
    await expect(readCheckedManifestTable(store, name, otherApp)).rejects.toMatchObject({ code: "BACKUP_NOT_FOUND" });
  });
});
