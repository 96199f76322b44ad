import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { faultEnv as shortDeadlines } from "../support/fault-setup.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { AzureBlobStore } from "../../core/store/azure.js";
import { listAll, type Store } from "../../core/store/store.js";

let azurite: Azurite;
let proxy: FaultProxy;
beforeAll(async () => {
  azurite = await startAzurite();
  proxy = await startFaultProxy(azurite);
});
afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});
beforeEach(() => proxy.reset());

let containers = 0;
const freshContainer = () => `list${Date.now().toString(36)}${(containers++).toString(36)}`;

/** A container holding `names` (written directly), and a store that reaches it through the fault proxy. */
async function containerWith(names: string[], metadataOf: (name: string) => Record<string, string> | undefined = () => undefined) {
  const container = freshContainer();
  const direct = new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container });
  await direct.check();
  for (const name of names) await direct.put(name, name, { metadata: metadataOf(name) });
  const viaProxy = new AzureBlobStore({ kind: "azure-connection-string", connectionString: proxy.connectionString, container }, shortDeadlines);
  const sas = new AzureBlobStore({ kind: "azure-sas", containerUrl: proxy.viaProxy(await azurite.containerWithSas(container)) }, shortDeadlines);
  return { direct, viaProxy, sas };
}

const listRequests = () => proxy.seen.filter((r) => r.comp === "list");
const names = async (store: Store, prefix: string, options = {}) => (await listAll(store, prefix, options)).map((o) => o.name);

describe("listing an Azure container", () => {
  it("pages through a prefix, a page of `pageSize` at a time, and sees every object once", async () => {
    const shop = Array.from({ length: 7 }, (_, i) => `shop_2031010100000${i}.xml`);
    const { viaProxy, sas } = await containerWith([...shop, "blog_20310101000000.xml", "shopping_20310101000000.xml"], (name) => ({ n: name.slice(-6, -4) }));
    for (const store of [viaProxy, sas]) {
      proxy.reset();
      const listed = await listAll(store, "shop_", { pageSize: 2, includeMetadata: true });
      expect(listed.map((o) => o.name)).toEqual(shop);
      expect(listed.map((o) => o.metadata)).toEqual(shop.map((name) => ({ n: name.slice(-6, -4) })));
      // Four pages of two (the last one short), each asked for with the prefix and the page size.
      expect(listRequests()).toHaveLength(4);
      for (const request of listRequests()) expect(request.url).toMatch(/prefix=shop_.*maxresults=2|maxresults=2.*prefix=shop_/);
    }
  });

  it("asks for one page only when the first object is all that is wanted", async () => {
    const { viaProxy } = await containerWith(["shop_1.xml", "shop_2.xml", "shop_3.xml"]);
    for await (const first of viaProxy.list("shop_", { pageSize: 1 })) {
      expect(first.name).toBe("shop_1.xml");
      break;
    }
    expect(listRequests()).toHaveLength(1);
    expect(listRequests()[0]!.url).not.toContain("include=metadata");
  });

  it("gives back names that XML must escape, and names beyond ASCII, as they were written", async () => {
    const written = ["shop_a&b.xml", "shop_<tag>.log", `shop_"quoted"'single'.zip`, "shop_100%.xml", "shop_Bäckerei-日本-𝄞.xml", "shop_&amp;.xml"];
    const { viaProxy } = await containerWith(written, () => ({ note: `&<>"'%` }));
    const listed = await listAll(viaProxy, "shop_", { includeMetadata: true, pageSize: 4 });
    expect(listed.map((o) => o.name).sort()).toEqual([...written].sort());
    for (const object of listed) expect(object).toMatchObject({ size: Buffer.byteLength(object.name), metadata: { note: `&<>"'%` } });
  });

  it.each(["500", "503", "reset"] as const)("retries a page request that fails once (%s) and lists everything once", async (kind) => {
    const { viaProxy } = await containerWith(Array.from({ length: 5 }, (_, i) => `shop_${i}.xml`));
    proxy.inject({ method: "GET", comp: "list", kind, nth: 2 });
    expect(await names(viaProxy, "shop_", { pageSize: 2 })).toEqual(["shop_0.xml", "shop_1.xml", "shop_2.xml", "shop_3.xml", "shop_4.xml"]);
    expect(proxy.fired).toBe(1);
  });

  it("tries a page again whose reply stops coming, rather than waiting for it", { timeout: 30_000 }, async () => {
    const { viaProxy } = await containerWith(["shop_1.xml", "shop_2.xml"]);
    proxy.inject({ method: "GET", comp: "list", kind: "stall-body" });
    expect(await names(viaProxy, "shop_")).toEqual(["shop_1.xml", "shop_2.xml"]);
    expect(proxy.fired).toBe(1);
  });

  it("fails with the storage-timeout error when page requests never get an answer", { timeout: 30_000 }, async () => {
    const { viaProxy } = await containerWith(["shop_1.xml", "shop_2.xml", "shop_3.xml"]);
    // The first page comes back; the second never does.
    proxy.inject({ method: "GET", comp: "list", kind: "hang", nth: 2, times: Infinity });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const object of viaProxy.list("shop_", { pageSize: 2 })) seen.push(object.name);
    })().catch((error: unknown) => error);
    expect(seen).toEqual(["shop_1.xml", "shop_2.xml"]);
    expect(failure).toMatchObject({ code: "STORAGE_UNREACHABLE", message: expect.stringMatching(/did not answer in time to list the container: the call timed out after 3 s/) });
    expect(proxy.fired).toBeGreaterThan(1);
  });

  it("refuses a page size the service does not accept", async () => {
    const { viaProxy } = await containerWith([]);
    for (const pageSize of [0, 5001, 2.5]) {
      await expect(listAll(viaProxy, "", { pageSize })).rejects.toMatchObject({ code: "USAGE", message: expect.stringMatching(/page size is .*from 1 to 5000/) });
    }
  });

  it("says a container that does not exist is not found, and a refused SAS is refused, without the signature", async () => {
    const missing = new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container: freshContainer() });
    await expect(listAll(missing)).rejects.toMatchObject({ code: "STORAGE_NOT_FOUND", message: expect.stringMatching(/could not list the container .*ContainerNotFound/) });
    const url = await azurite.containerWithSas(freshContainer(), { permissions: "r" });
    const error = (await listAll(new AzureBlobStore({ kind: "azure-sas", containerUrl: url })).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe("STORAGE_AUTH");
    expect(error.message).not.toContain(new URL(url).searchParams.get("sig")!);
  });
});

describe("listing a service that answers with something else than a blob list", () => {
  let answer: (response: http.ServerResponse, url: URL) => void;
  let server: http.Server;
  let store: AzureBlobStore;
  beforeAll(async () => {
    server = http.createServer((request, response) => answer(response, new URL(request.url ?? "/", "http://x")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    store = new AzureBlobStore({ kind: "azure-sas", containerUrl: `http://127.0.0.1:${port}/devstoreaccount1/c?sv=2025-01-05&sp=rl&sig=c2VjcmV0` }, shortDeadlines);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const xmlReply = (body: string) => (response: http.ServerResponse) => {
    response.writeHead(200, { "content-type": "application/xml" });
    response.end(body);
  };
  const page = (blobs: string, next: string) =>
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs>${blobs}</Blobs><NextMarker>${next}</NextMarker></EnumerationResults>`;
  const blob = (name: string) =>
    `<Blob><Name>${name}</Name><Properties><Last-Modified>Mon, 03 Feb 2031 04:05:07 GMT</Last-Modified><Content-Length>1</Content-Length></Properties></Blob>`;

  it.each([
    ["entities declared to expand a billionfold", xmlReply(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><EnumerationResults><Blobs><Blob><Name>&lol2;</Name></Blob></Blobs></EnumerationResults>`), /not a blob list/],
    ["an HTML page", xmlReply("<!doctype html><html><body>Sign in</body></html>"), /not a blob list/],
    ["a page that names itself as the next one", xmlReply(page(blob("shop_a"), "again")), /points to itself as the next page/],
    ["a blob outside the prefix", xmlReply(page(blob("other_1.xml"), "")), /outside the prefix "shop_"/],
  ])("refuses %s with a clear error", { timeout: 30_000 }, async (_what, reply, reason) => {
    answer = reply;
    const failure = (await listAll(store, "shop_").catch((error: unknown) => error)) as Error & { code: string; hint: string };
    expect(failure).toMatchObject({ code: "STORAGE", message: expect.stringMatching(/answered a listing of the container with a reply that cannot be used/) });
    expect(failure.message).toMatch(reason);
    expect(failure.hint).toMatch(/points at Azure Blob Storage/);
    expect(failure.message).not.toContain("c2VjcmV0");
  });

  it("stops reading a reply that never ends, without holding it", { timeout: 60_000 }, async () => {
    const chunk = Buffer.alloc(1024 * 1024, "<Blob>".repeat(10));
    answer = (response) => {
      response.writeHead(200, { "content-type": "application/xml" });
      response.write('<?xml version="1.0"?><EnumerationResults><Blobs>');
      const more = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once("drain", more);
      };
      more();
    };
    await expect(listAll(store, "shop_")).rejects.toMatchObject({ code: "STORAGE", message: expect.stringMatching(/larger than 96 MiB/) });
  });
});
