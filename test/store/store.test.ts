import { createHash } from "node:crypto";
import { mkdtemp, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { AppBackupError } from "../../core/errors.js";
import { AzureBlobStore } from "../../core/store/azure.js";
import { LocalStore } from "../../core/store/local.js";
import { listAll, type Store } from "../../core/store/store.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const backends: Array<[string, () => Promise<Store>]> = [
  ["local folder", async () => new LocalStore(await mkdtemp(path.join(os.tmpdir(), "store-")))],
  ["Azure Blob (SAS URL)", async () => new AzureBlobStore({ kind: "azure-sas", containerUrl: await azurite.containerWithSas(`c${Date.now()}${Math.random().toString(36).slice(2, 6)}`) })],
  ["Azure Blob (connection string)", async () => new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container: `cs${Date.now()}` })],
];

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += chunk.toString();
  return out;
}

describe.each(backends)("%s store", (_label, open) => {
  it("keeps a staged upload invisible until commit, and never overwrites", async () => {
    const store = await open();
    await store.check();
    const upload = await store.upload("a.zip");
    await upload.write(Buffer.alloc(9 * 1024 * 1024, 1));
    await upload.write(Buffer.from("tail"));
    expect(await store.exists("a.zip")).toBe(false);
    expect((await listAll(store)).map((o) => o.name)).toEqual([]);
    await upload.commit();
    expect(await store.stat("a.zip")).toMatchObject({ name: "a.zip", size: 9 * 1024 * 1024 + 4 });
    expect(await text(await store.read("a.zip", { offset: 9 * 1024 * 1024, length: 4 }))).toBe("tail");

    const again = await store.upload("a.zip");
    await again.write(Buffer.from("other"));
    await expect(again.commit()).rejects.toThrow(/already exists/);
    expect((await store.stat("a.zip"))!.size).toBe(9 * 1024 * 1024 + 4);
  });

  it("stores a many-block upload byte for byte (block buffers are used again once staged)", async () => {
    const store = await open();
    await store.check();
    const upload = await store.upload("many.zip");
    const written = createHash("sha256");
    // 44 MiB in uneven chunks whose bytes differ with their place: a block reused too early would show.
    let total = 0;
    for (let index = 0; total < 44 * 1024 * 1024; index++) {
      const chunk = Buffer.alloc(700 * 1024 + (index % 7) * 4099);
      for (let at = 0; at < chunk.length; at++) chunk[at] = (Math.imul(total + at, 0x9e3779b1) >>> 24) & 0xff;
      written.update(chunk);
      total += chunk.length;
      await upload.write(chunk);
    }
    await upload.commit();
    const read = createHash("sha256");
    for await (const chunk of await store.read("many.zip")) read.update(chunk as Buffer);
    expect((await store.stat("many.zip"))!.size).toBe(total);
    expect(read.digest("hex")).toBe(written.digest("hex"));
  });

  it("leaves nothing behind when an upload is aborted", async () => {
    const store = await open();
    await store.check();
    const upload = await store.upload("b.zip");
    await upload.write(Buffer.from("partial"));
    await upload.abort();
    expect(await store.exists("b.zip")).toBe(false);
    expect(await listAll(store)).toEqual([]);
  });

  it("puts, lists, reads and deletes small objects", async () => {
    const store = await open();
    await store.check();
    await store.put("x.xml", "<x/>");
    await expect(store.put("x.xml", "<y/>")).rejects.toThrow(/already exists/);
    await store.put("x.xml", "<z/>", { overwrite: true });
    await store.put("y.log", Buffer.from("log"));
    expect((await listAll(store)).map((o) => o.name)).toEqual(["x.xml", "y.log"]);
    expect((await store.readAll("x.xml")).toString()).toBe("<z/>");
    await store.delete("x.xml");
    await store.delete("never-existed.xml");
    expect(await store.exists("x.xml")).toBe(false);
    expect(store.urlOf("y.log")).not.toMatch(/sig=|AccountKey/);
  });

  it("lists names in the same order as Azure does, whatever the machine's locale: by code unit, capitals first", async () => {
    const store = await open();
    await store.check();
    for (const name of ["b.xml", "a.xml", "B.xml", "_a.xml", "a-b.xml", "ab.xml"]) await store.put(name, "<x/>");
    expect((await listAll(store)).map((o) => o.name)).toEqual(["B.xml", "_a.xml", "a-b.xml", "a.xml", "ab.xml", "b.xml"]);
  });

  it("creates an object only when its name is free", async () => {
    const store = await open();
    await store.check();
    expect(await store.create("r.log", "first")).toBe(true);
    expect(await store.create("r.log", "second")).toBe(false);
    expect((await store.readAll("r.log")).toString()).toBe("first");
  });

  it("reads any range of an object through its random-access source", async () => {
    const store = await open();
    await store.check();
    await store.put("r.zip", "0123456789");
    const source = await store.openRandomAccess("r.zip");
    try {
      expect(source.size).toBe(10);
      expect(source.local).toBe(store.localPath !== undefined);
      expect((await source.read(3, 4)).toString()).toBe("3456");
      const target = Buffer.alloc(2);
      await source.readInto(target, 8, 2);
      expect(target.toString()).toBe("89");
      await expect(source.read(8, 5)).rejects.toThrow(RangeError);
    } finally {
      await source.close?.();
    }
  });

  it("lists by prefix as it iterates, and gives up a call whose signal is aborted", async () => {
    const store = await open();
    await store.check();
    for (const name of ["shop_1.xml", "shop_2.xml", "blog_1.xml"]) await store.put(name, "<x/>");
    const seen: string[] = [];
    for await (const object of store.list("shop_")) seen.push(object.name);
    expect(seen.sort()).toEqual(["shop_1.xml", "shop_2.xml"]);
    const stopped = new Error("stopped");
    const abortSignal = AbortSignal.abort(stopped);
    await expect(listAll(store, "", { abortSignal })).rejects.toBe(stopped);
    await expect(store.put("late.xml", "<x/>", { abortSignal })).rejects.toBe(stopped);
    expect(await store.exists("late.xml")).toBe(false);
  });

  it.each(["../other/app_20260101000000.xml", "a/b.xml", "a\\b.xml", ".hidden", "..", "line\nbreak.xml", "nul\u0000.xml", ""])(
    "refuses the name %j, which is not a plain name inside the container",
    async (name) => {
      const store = await open();
      await store.check();
      const refused = expect.objectContaining({ code: "USAGE", message: expect.stringMatching(/is not a valid name inside the container/) });
      await expect(store.stat(name)).rejects.toEqual(refused);
      await expect(store.exists(name)).rejects.toEqual(refused);
      await expect(store.readAll(name)).rejects.toEqual(refused);
      await expect(store.read(name)).rejects.toEqual(refused);
      await expect(store.put(name, "x")).rejects.toEqual(refused);
      await expect(store.create(name, "x")).rejects.toEqual(refused);
      await expect(store.upload(name)).rejects.toEqual(refused);
      await expect(store.delete(name)).rejects.toEqual(refused);
      await expect(store.locker.tryLock(name, { ttlMs: 15_000, holder: "test" })).rejects.toEqual(refused);
    },
  );
});

describe("an Azure container", () => {
  it("never reads a blob of another container through a name with '..'", async () => {
    const other = azurite.service.getContainerClient(`other${Date.now()}`);
    await other.createIfNotExists();
    await other.getBlockBlobClient("shop_20260101000000.xml").upload("<secret/>", 9);
    const store = new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container: `mine${Date.now()}` });
    await store.check();
    const escaping = `../${other.containerName}/shop_20260101000000.xml`;
    await expect(store.readAll(escaping)).rejects.toMatchObject({ code: "USAGE" });
    await expect(store.exists(escaping)).rejects.toMatchObject({ code: "USAGE" });
  });
});

describe("storage errors", () => {
  it("a wrong SAS is refused with a clear error that holds no signature", async () => {
    const url = await azurite.containerWithSas("wrongsas", { key: Buffer.from("not the account key").toString("base64") });
    const store = new AzureBlobStore({ kind: "azure-sas", containerUrl: url });
    const error = (await store.check().catch((e: unknown) => e)) as AppBackupError;
    expect(error).toBeInstanceOf(AppBackupError);
    expect(error.code).toBe("STORAGE_AUTH");
    expect(error.describe()).toMatch(/refused.*HTTP 403/);
    expect(error.describe()).toMatch(/SAS token/);
    const signature = new URL(url).searchParams.get("sig")!;
    expect(error.describe()).not.toContain(signature);
    expect(error.describe()).not.toContain(encodeURIComponent(signature));
  });

  it("an unreachable endpoint says so", async () => {
    const store = new AzureBlobStore({
      kind: "azure-sas",
      containerUrl: "http://127.0.0.1:9/devstoreaccount1/c?sv=2024-01-01&sig=c2VjcmV0",
    });
    const error = (await store.check().catch((e: unknown) => e)) as AppBackupError;
    expect(error.code).toBe("STORAGE_UNREACHABLE");
    expect(error.describe()).toMatch(/cannot be reached.*connection was refused/);
    expect(error.describe()).not.toContain("c2VjcmV0");
  });

  it("a SAS URL without a signature is rejected before any request", () => {
    expect(() => new AzureBlobStore({ kind: "azure-sas", containerUrl: "https://a.blob.core.windows.net/c" })).toThrow(/has no SAS token/);
  });

  it("a local container leaves no temp files after commit", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "store-"));
    const store = new LocalStore(root);
    const upload = await store.upload("c.zip");
    await upload.write(Buffer.from("x"));
    await upload.commit();
    expect(await readdir(root)).toEqual(["c.zip"]);
  });
});

describe("local container housekeeping", () => {
  it("removes temp files abandoned by a killed run, and keeps fresh ones", async () => {
    const { utimes, writeFile } = await import("node:fs/promises");
    const root = await mkdtemp(path.join(os.tmpdir(), "store-"));
    await writeFile(path.join(root, ".partial-old-x.zip"), "abandoned");
    await writeFile(path.join(root, ".partial-new-y.zip"), "in progress");
    const longAgo = new Date(Date.now() - 7 * 60 * 60 * 1000);
    await utimes(path.join(root, ".partial-old-x.zip"), longAgo, longAgo);
    await new LocalStore(root).check();
    expect((await readdir(root)).sort()).toEqual([".partial-new-y.zip"]);
  });
});

describe("a local folder store", () => {
  it("names the file of an object, for the engine to keep a restore off it", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "store-"));
    expect(new LocalStore(root).localPath("a.zip")).toBe(path.join(root, "a.zip"));
  });

  it("lists the names under a prefix as its listing does, without the folder's own files, and none for a folder not made yet", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "store-"));
    const store = new LocalStore(root);
    expect(await store.listNames("")).toEqual([]);
    for (const name of ["shop_2.xml", "shop_1.zip", "Shop_1.xml", "shop-eu_1.xml"]) await store.put(name, "x", { metadata: { status: "succeeded" } });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(root, ".partial-abc-shop_3.zip"), "in progress");
    expect(await store.listNames("shop_")).toEqual(["shop_1.zip", "shop_2.xml"]);
    expect(await store.listNames("")).toEqual((await listAll(store)).map((o) => o.name));
    expect(await new LocalStore(path.join(root, "not-made")).listNames("")).toEqual([]);
  });
});
