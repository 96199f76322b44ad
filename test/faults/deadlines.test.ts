import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AzureBlobStore } from "../../core/store/azure.js";
import { listAll } from "../../core/store/store.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { directStore, faultEnv, freshContainer, useFaultEnv } from "../support/fault-setup.js";

let azurite: Azurite;
let proxy: FaultProxy;
beforeAll(async () => {
  useFaultEnv();
  azurite = await startAzurite();
  proxy = await startFaultProxy(azurite);
});
afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});
beforeEach(() => proxy.reset());

async function storeWith(blob?: { name: string; data: Buffer }) {
  const container = freshContainer("dl");
  const direct = directStore(azurite, container);
  await direct.check();
  if (blob) await direct.put(blob.name, blob.data);
  return new AzureBlobStore({ kind: "azure-connection-string", connectionString: proxy.connectionString, container });
}

async function bytesOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// The test timeout is far below what a storage call without a deadline would hang for (minutes).
describe("a storage call under a deadline", () => {
  it("fails with a clear error when the service never answers", { timeout: 30_000 }, async () => {
    const store = await storeWith();
    proxy.inject({ method: "GET", comp: "list", kind: "hang", times: Infinity });
    const failure = (await listAll(store).catch((error: unknown) => error)) as Error;
    expect(failure).toMatchObject({ code: "STORAGE_UNREACHABLE" });
    expect(failure.message).toMatch(/did not answer in time to list the container: the call timed out after 3 s/);
    expect((failure as { hint?: string }).hint).toMatch(/APP_BACKUP_STORAGE_TIMEOUT_MS/);
    // Each hung try was given up and tried again until the deadline.
    expect(proxy.fired).toBeGreaterThan(1);
  });

  it("fails a write that never gets an answer the same way", { timeout: 30_000 }, async () => {
    const store = await storeWith();
    proxy.inject({ method: "PUT", blobSuffix: ".xml", kind: "hang", times: Infinity });
    await expect(store.put("a.xml", "<a/>")).rejects.toMatchObject({ code: "STORAGE_UNREACHABLE", message: expect.stringMatching(/timed out/) });
  });

  it("fails a download whose bytes stop coming", { timeout: 30_000 }, async () => {
    const data = randomBytes(300_000);
    const store = await storeWith({ name: "a.zip", data });
    proxy.inject({ method: "GET", blobSuffix: ".zip", kind: "stall-body", times: Infinity });
    const failure = await bytesOf(await store.read("a.zip")).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ code: "STORAGE_UNREACHABLE", message: expect.stringMatching(/stopped sending a\.zip: no data for 1 s/) });
  });

  it("lets a download that keeps moving run past the deadline", { timeout: 30_000 }, async () => {
    const data = randomBytes(300_000);
    const store = await storeWith({ name: "a.zip", data });
    // 16 pieces 300 ms apart: about 5 s in all, beyond the 3 s deadline, never 1 s without data.
    proxy.inject({ method: "GET", blobSuffix: ".zip", kind: "trickle", trickleMs: 300 });
    const read = await bytesOf(await store.read("a.zip"));
    expect(proxy.fired).toBe(1);
    expect(read.equals(data)).toBe(true);
    expect(Number(faultEnv.APP_BACKUP_STORAGE_TIMEOUT_MS)).toBeLessThan(16 * 300);
  });

  it("refuses a deadline that is not a positive number", () => {
    expect(
      () => new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container: "x" }, { APP_BACKUP_STORAGE_TIMEOUT_MS: "soon" }),
    ).toThrow(/APP_BACKUP_STORAGE_TIMEOUT_MS is "soon"; expected a positive number of milliseconds/);
  });
});
