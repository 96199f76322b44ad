import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { BlobServiceClient, ContainerClient, RestError, type StoragePipelineOptions } from "@azure/storage-blob";
import { AppBackupError } from "../errors.js";
import type { StorageSpec } from "../options.js";
import { displayUrl, redactPatterns } from "../secrets.js";
import { tryAzureLock } from "./azure-lock.js";
import type { LockAttempt, LockOptions, StagedUpload, Store, StoredObject } from "./store.js";

/** Block size for staged uploads: large enough for throughput, small enough to keep memory flat. */
const blockSize = 8 * 1024 * 1024;
/** Blocks uploading at once. */
const blockConcurrency = 4;

const pipelineOptions: StoragePipelineOptions = {
  retryOptions: { maxTries: 4, retryDelayInMs: 400, maxRetryDelayInMs: 4000, tryTimeoutInMs: 120_000 },
  userAgentOptions: { userAgentPrefix: "app-backup" },
};

type AzureSpec = Exclude<StorageSpec, { kind: "local" }>;

/** A container in Azure Blob Storage (or Azurite), reached by SAS URL, connection string or Entra ID. */
export class AzureBlobStore implements Store {
  readonly container: ContainerClient;
  private readonly canCreateContainer: boolean;

  constructor(spec: AzureSpec) {
    this.canCreateContainer = spec.kind !== "azure-sas";
    this.container = containerClientFor(spec);
  }

  get location(): string {
    return displayUrl(this.container.url);
  }

  urlOf(name: string): string {
    return displayUrl(this.container.getBlobClient(name).url);
  }

  async check(): Promise<void> {
    try {
      // Listing one blob works with a container SAS too (container properties need an account credential).
      await this.container.listBlobsFlat().byPage({ maxPageSize: 1 }).next();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404 && this.canCreateContainer) {
        await this.call("create the container", () => this.container.createIfNotExists());
        return;
      }
      throw this.describe(error, "reach the container");
    }
  }

  async list(prefix = ""): Promise<StoredObject[]> {
    return this.call("list the container", async () => {
      const objects: StoredObject[] = [];
      for await (const blob of this.container.listBlobsFlat({ prefix: prefix || undefined })) {
        objects.push({
          name: blob.name,
          size: blob.properties.contentLength ?? 0,
          lastModified: blob.properties.lastModified,
        });
      }
      return objects.sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async exists(name: string): Promise<boolean> {
    return (await this.stat(name)) !== undefined;
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    try {
      const properties = await this.container.getBlobClient(name).getProperties();
      return { name, size: properties.contentLength ?? 0, lastModified: properties.lastModified ?? new Date(0) };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw this.describe(error, `read ${name}`);
    }
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Readable> {
    return this.call(`read ${name}`, async () => {
      if (range && range.length === 0) {
        const { Readable } = await import("node:stream");
        return Readable.from([]);
      }
      const response = await this.container.getBlobClient(name).download(range?.offset ?? 0, range?.length);
      return response.readableStreamBody as Readable;
    });
  }

  async readAll(name: string): Promise<Buffer> {
    return this.call(`read ${name}`, () => this.container.getBlobClient(name).downloadToBuffer());
  }

  async upload(name: string): Promise<StagedUpload> {
    return new BlockUpload(this, name);
  }

  async put(name: string, data: Buffer | string, options: { overwrite?: boolean } = {}): Promise<void> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    await this.call(`write ${name}`, () =>
      this.container.getBlockBlobClient(name).upload(body, body.length, {
        conditions: options.overwrite ? undefined : { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: contentTypeOf(name) },
      }),
    );
  }

  async delete(name: string): Promise<void> {
    await this.call(`delete ${name}`, () => this.container.getBlobClient(name).deleteIfExists({ deleteSnapshots: "include" }));
  }

  async tryLock(name: string, options: LockOptions): Promise<LockAttempt> {
    return tryAzureLock(this, name, options);
  }

  /** Runs a storage call and turns its failure into an error that says what to do, without credentials. */
  async call<T>(action: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.describe(error, action);
    }
  }

  describe(error: unknown, action: string): AppBackupError {
    if (error instanceof AppBackupError) return error;
    const where = this.location;
    if (error instanceof RestError) {
      const code = (error.details as { errorCode?: string } | undefined)?.errorCode ?? error.code ?? "";
      if (error.statusCode === 403 || error.statusCode === 401) {
        return new AppBackupError(
          "STORAGE_AUTH",
          `Azure Storage refused to ${action} at ${where} (HTTP ${error.statusCode} ${code}).`,
          "Check the SAS token or account key: it must be valid, not expired, and grant read, write, list and delete on the container.",
        );
      }
      if (error.statusCode === 404) {
        return new AppBackupError(
          "STORAGE_NOT_FOUND",
          `Azure Storage could not ${action} at ${where}: ${code || "not found"}.`,
          "Check the account and container names; a SAS URL needs an existing container.",
        );
      }
      if (error.statusCode === 409 && code === "BlobAlreadyExists") {
        return new AppBackupError("STORAGE", `Could not ${action} at ${where}: it already exists and is never overwritten.`);
      }
      if (error.statusCode === 412 || (error.statusCode === 409 && /exist/i.test(code))) {
        return new AppBackupError("STORAGE", `Could not ${action} at ${where}: it already exists and is never overwritten.`);
      }
      if (error.statusCode === undefined || error.code === "REQUEST_SEND_ERROR") {
        return new AppBackupError(
          "STORAGE_UNREACHABLE",
          `Azure Storage at ${where} cannot be reached to ${action}: ${networkReason(error)}.`,
          "Check the account URL and the network (DNS, firewall, proxy).",
        );
      }
      return new AppBackupError("STORAGE", `Azure Storage could not ${action} at ${where} (HTTP ${error.statusCode} ${code}).`);
    }
    const name = (error as Error | undefined)?.name ?? "";
    if (/CredentialUnavailableError|AuthenticationError|AggregateAuthenticationError/.test(name)) {
      return new AppBackupError(
        "STORAGE_AUTH",
        `No Entra ID credential could get a token to ${action} at ${where}: ${firstLine(error)}`,
        "Sign in with `az login`, run where a managed identity is assigned, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a federated token). The identity needs the Storage Blob Data Contributor role on the container.",
      );
    }
    const reason = networkReason(error);
    return new AppBackupError(
      "STORAGE_UNREACHABLE",
      `Azure Storage at ${where} cannot be reached to ${action}: ${reason}.`,
      "Check the account URL and the network (DNS, firewall, proxy), and for Entra ID that a credential is available.",
    );
  }
}

function containerClientFor(spec: AzureSpec): ContainerClient {
  switch (spec.kind) {
    case "azure-sas": {
      let url: URL;
      try {
        url = new URL(spec.containerUrl);
      } catch {
        throw new AppBackupError("CONFIG_INVALID", "backup.storage is not a valid container URL.", "Use https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS.");
      }
      if (!url.search.includes("sig=")) {
        throw new AppBackupError(
          "CONFIG_INVALID",
          `backup.storage (${displayUrl(spec.containerUrl)}) has no SAS token.`,
          "Append a container SAS (?sv=...&sig=...) granting read, write, list and delete, or use {connectionString, container} or {accountUrl, container}.",
        );
      }
      return new ContainerClient(spec.containerUrl, undefined, pipelineOptions);
    }
    case "azure-connection-string": {
      let service: BlobServiceClient;
      try {
        service = BlobServiceClient.fromConnectionString(spec.connectionString, pipelineOptions);
      } catch {
        throw new AppBackupError(
          "CONFIG_INVALID",
          "backup.storage.connectionString is not a valid Azure Storage connection string.",
          "Copy it from the storage account's Access keys page: DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net",
        );
      }
      return service.getContainerClient(spec.container);
    }
    case "azure-identity":
      return new BlobServiceClient(spec.accountUrl, lazyDefaultCredential(), pipelineOptions).getContainerClient(spec.container);
  }
}

/** DefaultAzureCredential, loaded only when a store actually uses Entra ID. */
function lazyDefaultCredential() {
  let credential: Promise<import("@azure/identity").DefaultAzureCredential> | undefined;
  const load = () => (credential ??= import("@azure/identity").then((m) => new m.DefaultAzureCredential()));
  return {
    async getToken(scopes: string | string[], options?: object) {
      return (await load()).getToken(scopes, options);
    },
  };
}

class BlockUpload implements StagedUpload {
  bytesWritten = 0;
  private readonly blockIds: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** The block being filled; writers lend their chunks only for the length of a write, so they are copied here. */
  private block?: Buffer;
  private blockLength = 0;
  private failure: unknown;
  private readonly uploadId = randomBytes(8).toString("hex");

  constructor(
    private readonly store: AzureBlobStore,
    private readonly name: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, blockSize - this.blockLength);
      this.block ??= Buffer.allocUnsafe(blockSize);
      chunk.copy(this.block, this.blockLength, at, at + take);
      this.blockLength += take;
      at += take;
      if (this.blockLength === blockSize) await this.stageBlock();
    }
    this.bytesWritten += chunk.length;
  }

  async commit(): Promise<void> {
    if (this.blockLength > 0 || this.blockIds.length === 0) await this.stageBlock();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    await this.store.call(`commit ${this.name}`, () =>
      this.store.container.getBlockBlobClient(this.name).commitBlockList(this.blockIds, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: contentTypeOf(this.name) },
      }),
    );
  }

  async abort(): Promise<void> {
    // Uncommitted blocks are invisible and expire on their own; nothing under the name changes.
    this.failure ??= new Error("upload aborted");
    await Promise.allSettled(this.inFlight);
  }

  private async stageBlock(): Promise<void> {
    // The staged block is handed over whole; the next write starts a new one.
    const data = this.block?.subarray(0, this.blockLength) ?? Buffer.alloc(0);
    this.block = undefined;
    this.blockLength = 0;
    while (this.inFlight.size >= blockConcurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    // Block ids must all have the same length within a blob.
    const id = Buffer.from(`${this.uploadId}-${String(this.blockIds.length).padStart(8, "0")}`).toString("base64");
    this.blockIds.push(id);
    const task: Promise<void> = this.store
      .call(`upload ${this.name}`, () => this.store.container.getBlockBlobClient(this.name).stageBlock(id, data, data.length))
      .then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= error;
        },
      )
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }
}

function contentTypeOf(name: string): string {
  if (name.endsWith(".zip")) return "application/zip";
  if (name.endsWith(".xml")) return "application/xml";
  if (name.endsWith(".log")) return "text/plain; charset=utf-8";
  if (name.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

function firstLine(error: unknown): string {
  return redactPatterns(((error as Error)?.message ?? String(error)).split("\n")[0]!.trim());
}

function networkReason(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code && e.code !== "REQUEST_SEND_ERROR" ? e.code : e.cause?.code;
  const known: Record<string, string> = {
    ENOTFOUND: "the host name does not resolve",
    ECONNREFUSED: "the connection was refused",
    ETIMEDOUT: "the connection timed out",
    ECONNRESET: "the connection was reset",
    EAI_AGAIN: "the host name could not be resolved right now",
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  const message = (e.message ?? String(error)).split("\n")[0]!;
  return message.replace(/https?:\/\/\S+/g, (url) => displayUrl(url));
}
