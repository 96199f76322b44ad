import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { catalogFactsFrom, catalogMetadataOf, type CatalogFacts } from "../../core/format/catalog-metadata.js";
import { AzureBlobStore } from "../../core/store/azure.js";
import { LocalStore } from "../../core/store/local.js";
import { metadataRecordFileOf, objectOfMetadataRecord } from "../../core/store/local-metadata.js";
import { listAll, type Store } from "../../core/store/store.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const unique = () => `${Date.now()}${Math.random().toString(36).slice(2, 8)}`;

const backends: Array<[string, () => Promise<Store>]> = [
  ["local folder", async () => new LocalStore(await mkdtemp(path.join(os.tmpdir(), "store-meta-")))],
  ["Azure Blob (SAS URL)", async () => new AzureBlobStore({ kind: "azure-sas", containerUrl: await azurite.containerWithSas(`m${unique()}`) })],
  ["Azure Blob (connection string)", async () => new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container: `mcs${unique()}` })],
];

/** Free text that has broken metadata before: non-ASCII, quotes, '%', XML's own characters, and an error far longer than a header likes. */
const hostileFacts: CatalogFacts = {
  appName: "Bäckerei-日本-\"quoted\"-'single'-100%-<b>&amp;",
  status: "Failed",
  trigger: "Scheduled",
  startedAt: new Date("2031-02-03T04:05:06.789Z"),
  finishedAt: new Date("2031-02-03T04:07:00.001Z"),
  sizeBytes: 0,
  contentBytes: 12_345_678_901,
  files: 4321,
  databases: 2,
  toolVersion: "0.1.0-beta+ü",
  error: `The dump of "MainDb" failed: 100% of 𝄞 retries used & <nothing> left. ${"très long; ".repeat(200)}`,
};

describe.each(backends)("metadata on a %s store", (_label, open) => {
  it("comes back from stat and from a listing exactly as written, hostile values included", async () => {
    const store = await open();
    await store.check();
    const metadata = catalogMetadataOf(hostileFacts);
    const raw = { note: `"quoted" 'single' 100% & <tag> ~!@#$^*()`, empty: "" };

    const upload = await store.upload("shop_20310203040506.xml", { metadata });
    await upload.write(Buffer.from("<BackupManifest/>"));
    await upload.commit();
    await store.put("shop_20310203040506.log", "log", { metadata: raw });
    expect(await store.create("shop_20310203040506.zip", "zip", { metadata: { kind: "zip" } })).toBe(true);
    await store.put("shop_20310203040507.log", "plain");

    const listed = await listAll(store, "shop_", { includeMetadata: true });
    expect(listed.map((o) => [o.name, o.metadata])).toEqual([
      ["shop_20310203040506.log", raw],
      ["shop_20310203040506.xml", metadata],
      ["shop_20310203040506.zip", { kind: "zip" }],
      ["shop_20310203040507.log", undefined],
    ]);
    expect((await store.stat("shop_20310203040506.xml"))?.metadata).toEqual(metadata);
    expect((await store.stat("shop_20310203040507.log"))?.metadata).toBeUndefined();

    const facts = catalogFactsFrom(listed[1]!.metadata);
    expect(facts).toEqual({ ...hostileFacts, error: expect.any(String) });
    // Azure keeps 8 KiB of metadata per blob: the error is cut there and the manifest keeps it whole.
    expect(hostileFacts.error!.startsWith(facts!.error!.slice(0, -1))).toBe(true);
    expect(Array.from(facts!.error!)).toHaveLength(400);
  });

  it("is left out of a listing that does not ask for it", async () => {
    const store = await open();
    await store.check();
    await store.put("a.xml", "<a/>", { metadata: { kind: "manifest" } });
    expect(await listAll(store)).toEqual([expect.not.objectContaining({ metadata: expect.anything() })]);
  });

  it("is written with the object in one step: a refused write leaves the first object's metadata", async () => {
    const store = await open();
    await store.check();
    expect(await store.create("a.xml", "first", { metadata: { writer: "first" } })).toBe(true);
    expect(await store.create("a.xml", "second", { metadata: { writer: "second" } })).toBe(false);
    const again = await store.upload("a.xml", { metadata: { writer: "third" } });
    await again.write(Buffer.from("third"));
    await expect(again.commit()).rejects.toThrow(/already exists/);
    expect(await store.stat("a.xml")).toMatchObject({ size: 5, metadata: { writer: "first" } });
    await store.put("a.xml", "replaced", { overwrite: true, metadata: { writer: "replacing" } });
    expect(await store.stat("a.xml")).toMatchObject({ size: 8, metadata: { writer: "replacing" } });
    await store.put("a.xml", "plain again", { overwrite: true });
    expect((await store.stat("a.xml"))?.metadata).toBeUndefined();
  });

  it.each([
    ["an upper-case name", { Upper: "x" }, /is not lower-case letters/],
    ["a name with '-'", { "with-dash": "x" }, /is not lower-case letters/],
    ["the write token's name", { appbackupwrite: "x" }, /kept for the store's own use/],
    ["a non-ASCII value", { note: "naïve" }, /is not printable ASCII/],
    ["a value starting with a space", { note: " padded" }, /is not printable ASCII/],
    ["a line break", { note: "line\nbreak" }, /is not printable ASCII/],
    ["more than 8 KiB", { big: "x".repeat(8200) }, /more than the 8192 Azure allows/],
  ])("refuses metadata with %s, which Azure would refuse or change, before writing anything", async (_what, metadata: Record<string, string>, message) => {
    const store = await open();
    await store.check();
    const refused = expect.objectContaining({ code: "USAGE", message: expect.stringMatching(message) });
    await expect(store.put("a.xml", "<a/>", { metadata })).rejects.toEqual(refused);
    await expect(store.upload("a.xml", { metadata })).rejects.toEqual(refused);
    expect(await listAll(store)).toEqual([]);
  });
});

describe("a local container's metadata records", () => {
  async function storeWithRecord() {
    const root = await mkdtemp(path.join(os.tmpdir(), "store-record-"));
    const store = new LocalStore(root);
    await store.put("shop_1.xml", "<x/>", { metadata: { kind: "manifest" } });
    return { root, store };
  }

  it("are hidden files never listed as objects, and go with their object", async () => {
    const { root, store } = await storeWithRecord();
    expect(await readdir(root)).toEqual([metadataRecordFileOf("shop_1.xml"), "shop_1.xml"].sort());
    expect(objectOfMetadataRecord(metadataRecordFileOf("shop_1.xml"))).toBe("shop_1.xml");
    expect(objectOfMetadataRecord("shop_1.xml")).toBeUndefined();
    expect((await listAll(store, "", { includeMetadata: true })).map((o) => o.name)).toEqual(["shop_1.xml"]);
    await store.delete("shop_1.xml");
    expect(await readdir(root)).toEqual([]);
  });

  it("never lend a record to another file that took the object's name", async () => {
    const { root, store } = await storeWithRecord();
    // Replaced behind the store's back (a copy, a restore of the folder): the record is of the old file.
    await rm(path.join(root, "shop_1.xml"));
    await writeFile(path.join(root, "shop_1.xml"), "<y/>");
    expect((await store.stat("shop_1.xml"))?.metadata).toBeUndefined();
    expect((await listAll(store, "", { includeMetadata: true }))[0]?.metadata).toBeUndefined();
  });

  it("are removed by the container's check once abandoned for hours, and kept while fresh or in use", async () => {
    const { root, store } = await storeWithRecord();
    await store.put("shop_2.xml", "<x/>", { metadata: { kind: "manifest" } });
    await store.put("shop_3.xml", "<x/>", { metadata: { kind: "manifest" } });
    await rm(path.join(root, "shop_1.xml"));
    await rm(path.join(root, "shop_2.xml"));
    const longAgo = new Date(Date.now() - 7 * 60 * 60 * 1000);
    for (const name of ["shop_1.xml", "shop_3.xml"]) await utimes(path.join(root, metadataRecordFileOf(name)), longAgo, longAgo);
    await store.check();
    // shop_1's record was abandoned long ago; shop_2's is fresh (a write may be about to publish it); shop_3's is in use.
    expect((await readdir(root)).sort()).toEqual([metadataRecordFileOf("shop_2.xml"), metadataRecordFileOf("shop_3.xml"), "shop_3.xml"].sort());
    expect((await store.stat("shop_3.xml"))?.metadata).toEqual({ kind: "manifest" });
  });

  it("beside their object are never read by the container's check, and nothing under a record's name fails it", async () => {
    const { root, store } = await storeWithRecord();
    // Folders under records' names, old: one beside its object, one of no object.
    await rm(path.join(root, metadataRecordFileOf("shop_1.xml")));
    const longAgo = new Date(Date.now() - 7 * 60 * 60 * 1000);
    for (const name of ["shop_1.xml", "shop_9.xml"]) {
      await mkdir(path.join(root, metadataRecordFileOf(name)));
      await utimes(path.join(root, metadataRecordFileOf(name)), longAgo, longAgo);
    }
    await expect(store.check()).resolves.toBeUndefined();
    expect((await store.stat("shop_1.xml"))?.metadata).toBeUndefined();
    expect((await listAll(store, "", { includeMetadata: true })).map((o) => [o.name, o.metadata])).toEqual([["shop_1.xml", undefined]]);
    await expect(store.put("shop_2.xml", "<x/>", { metadata: { kind: "manifest" } })).resolves.toBeUndefined();
    expect((await store.stat("shop_2.xml"))?.metadata).toEqual({ kind: "manifest" });
  });

  it("that are not records of ours read as no metadata", async () => {
    const { root, store } = await storeWithRecord();
    for (const text of ["not json", "[]", '{"object":"shop_1.xml","metadata":{"kind":1}}', "null"]) {
      await writeFile(path.join(root, metadataRecordFileOf("shop_1.xml")), text);
      expect((await store.stat("shop_1.xml"))?.metadata).toBeUndefined();
    }
  });
});
