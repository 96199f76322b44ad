import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobServiceClient, ContainerClient, RestError, type StoragePipelineOptions } from "@azure/storage-blob";
import { AppBackupError } from "../errors.js";
import type { StorageSpec } from "../options.js";
import { displayUrl, redactPatterns } from "../secrets.js";
import { tryAzureLock } from "./azure-lock.js";
import { assertPlainObjectName } from "./object-name.js";
import { failOnStall } from "./stall-guard.js";
import { storageTimeoutEnvVar, storageTimeoutsFromEnv, type StorageTimeouts } from "./storage-timeouts.js";
import type { LockAttempt, LockOptions, StagedUpload, Store, StoredObject } from "./store.js";

/** Block size for staged uploads: large enough for throughput, small enough to keep memory flat. */
const blockSize = 8 * 1024 * 1024;
/** Blocks uploading at once. */
const blockConcurrency = 4;

/**
 * Metadata every write carries: a token of that one write, so that a write
 * whose reply was lost, retried and then refused because the first try had
 * succeeded, is recognised as done rather than reported as a collision.
 */
const writeTokenKey = "appbackupwrite";
/** Times a streamed read picks up again from where a dropped connection left it. */
const downloadResumes = 3;

/**
 * The SDK's `tryTimeoutInMs` only tells the service how long it may work on a
 * request; the client never gives up on a try by itself, so each try's own
 * timeout and the overall deadline are AzureBlobStore.attempt's.
 */
function pipelineOptionsFor(timeouts: StorageTimeouts): StoragePipelineOptions {
  return {
    retryOptions: {
      maxTries: 4,
      retryDelayInMs: timeouts.retryDelayMs,
      maxRetryDelayInMs: timeouts.maxRetryDelayMs,
      tryTimeoutInMs: timeouts.tryMs,
    },
    userAgentOptions: { userAgentPrefix: "app-backup" },
  };
}

type AzureSpec = Exclude<StorageSpec, { kind: "local" }>;

/** A container in Azure Blob Storage (or Azurite), reached by SAS URL, connection string or Entra ID. */
export class AzureBlobStore implements Store {
  readonly container: ContainerClient;
  readonly timeouts: StorageTimeouts;
  private readonly canCreateContainer: boolean;

  constructor(spec: AzureSpec, env: NodeJS.ProcessEnv = process.env) {
    this.canCreateContainer = spec.kind !== "azure-sas";
    this.timeouts = storageTimeoutsFromEnv(env);
    this.container = containerClientFor(spec, pipelineOptionsFor(this.timeouts));
  }

  get location(): string {
    return displayUrl(this.container.url);
  }

  urlOf(name: string): string {
    return displayUrl(this.blob(name).url);
  }

  /** The client of one blob; a name that would leave the container (`../other/x`) is refused first. */
  blob(name: string) {
    assertPlainObjectName(name, this.location);
    return this.container.getBlockBlobClient(name);
  }

  async check(): Promise<void> {
    try {
      // Listing one blob works with a container SAS too (container properties need an account credential).
      await this.attempt("reach the container", (abortSignal) => this.container.listBlobsFlat({ abortSignal }).byPage({ maxPageSize: 1 }).next());
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404 && this.canCreateContainer) {
        await this.call("create the container", (abortSignal) => this.container.createIfNotExists({ abortSignal }));
        return;
      }
      throw this.describe(error, "reach the container");
    }
  }

  async list(prefix = ""): Promise<StoredObject[]> {
    if (prefix) assertPlainObjectName(prefix, this.location);
    const objects: StoredObject[] = [];
    // Page by page, each under its own deadline: a container of many backups takes many pages.
    let continuationToken: string | undefined;
    do {
      const page = await this.call("list the container", async (abortSignal) => {
        const pages = this.container.listBlobsFlat({ prefix: prefix || undefined, abortSignal }).byPage({ continuationToken });
        return (await pages.next()).value;
      });
      for (const blob of page?.segment.blobItems ?? []) {
        objects.push({ name: blob.name, size: blob.properties.contentLength ?? 0, lastModified: blob.properties.lastModified });
      }
      continuationToken = page?.continuationToken || undefined;
    } while (continuationToken);
    return objects.sort((a, b) => a.name.localeCompare(b.name));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.stat(name)) !== undefined;
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    const blob = this.blob(name);
    try {
      const properties = await this.attempt(`read ${name}`, (abortSignal) => blob.getProperties({ abortSignal }));
      return { name, size: properties.contentLength ?? 0, lastModified: properties.lastModified ?? new Date(0) };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw this.describe(error, `read ${name}`);
    }
  }

  /**
   * The deadline covers the request until its reply starts; after that the
   * bytes may take as long as they need, as long as they keep coming: a pause
   * longer than one try fails the read instead of hanging it.
   */
  async read(name: string, range?: { offset: number; length: number }): Promise<Readable> {
    const blob = this.blob(name);
    if (range && range.length === 0) return Readable.from([]);
    return this.call(`read ${name}`, async (deadline) => {
      // Its own controller: the deadline's signal would otherwise stay attached to the body and cut a long download.
      const request = new AbortController();
      const onDeadline = () => request.abort(deadline.reason);
      if (deadline.aborted) onDeadline();
      deadline.addEventListener("abort", onDeadline, { once: true });
      try {
        const response = await blob.download(range?.offset ?? 0, range?.length, {
          abortSignal: request.signal,
          maxRetryRequests: downloadResumes,
        });
        return failOnStall(response.readableStreamBody as Readable, this.timeouts.tryMs, () => {
          const stalled = new AppBackupError(
            "STORAGE_UNREACHABLE",
            `Azure Storage at ${this.location} stopped sending ${name}: no data for ${seconds(this.timeouts.tryMs)} s.`,
            `Check the network to the storage account (firewall, proxy) and run again; ${storageTimeoutEnvVar} sets the deadline in milliseconds.`,
          );
          request.abort(stalled);
          return stalled;
        });
      } finally {
        deadline.removeEventListener("abort", onDeadline);
      }
    });
  }

  async readAll(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.read(name)) chunks.push(chunk as Buffer);
    } catch (error) {
      throw this.describe(error, `read ${name}`);
    }
    return Buffer.concat(chunks);
  }

  async upload(name: string): Promise<StagedUpload> {
    return new BlockUpload(this, name);
  }

  async put(name: string, data: Buffer | string, options: { overwrite?: boolean } = {}): Promise<void> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const blob = this.blob(name);
    const headers = { blobContentType: contentTypeOf(name) };
    if (options.overwrite) {
      // Writing the same bytes again is harmless, so a retried overwrite needs no check.
      await this.call(`write ${name}`, (abortSignal) =>
        blob.upload(body, body.length, { blobHTTPHeaders: headers, metadata: { [writeTokenKey]: newWriteToken() }, abortSignal }),
      );
      return;
    }
    if (!(await this.create(name, body))) {
      throw this.describe(alreadyExists(), `write ${name}`);
    }
  }

  async create(name: string, data: Buffer | string): Promise<boolean> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const blob = this.blob(name);
    return this.writeOnce(`write ${name}`, name, body.length, (metadata, abortSignal) =>
      blob.upload(body, body.length, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: contentTypeOf(name) },
        metadata,
        abortSignal,
      }),
    );
  }

  async delete(name: string): Promise<void> {
    const blob = this.blob(name);
    await this.call(`delete ${name}`, (abortSignal) => blob.deleteIfExists({ deleteSnapshots: "include", abortSignal }));
  }

  async tryLock(name: string, options: LockOptions): Promise<LockAttempt> {
    assertPlainObjectName(name, this.location);
    return tryAzureLock(this, name, options);
  }

  /**
   * A write that must not replace anything (`If-None-Match: *`). True when it
   * happened, false when the name was already taken by someone else. When the
   * service refuses because the name exists, the blob's write token tells a
   * try of this very write that succeeded but whose reply was lost (done) from
   * a real collision.
   */
  async writeOnce(
    action: string,
    name: string,
    size: number,
    write: (metadata: Record<string, string>, abortSignal: AbortSignal) => Promise<unknown>,
  ): Promise<boolean> {
    const token = newWriteToken();
    try {
      await this.attempt(action, (abortSignal) => write({ [writeTokenKey]: token }, abortSignal));
      return true;
    } catch (error) {
      if (!isRefusedAsExisting(error)) throw this.describe(error, action);
      if (await this.carriesWrite(name, token, size, action)) return true;
      return false;
    }
  }

  private async carriesWrite(name: string, token: string, size: number, action: string): Promise<boolean> {
    try {
      const properties = await this.attempt(action, (abortSignal) => this.blob(name).getProperties({ abortSignal }));
      return properties.metadata?.[writeTokenKey] === token && properties.contentLength === size;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return false;
      throw this.describe(error, action);
    }
  }

  /** Runs a storage call under its deadline and turns its failure into an error that says what to do, without credentials. */
  async call<T>(action: string, operation: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.attempt(action, operation);
    } catch (error) {
      throw this.describe(error, action);
    }
  }

  /**
   * Runs a storage call under one overall deadline, leaving its errors as the
   * service gave them. The SDK retries refused connections and 500/503 itself
   * but waits for a reply as long as it takes; each try here gets its own
   * timeout, and a try that got no reply in time is made again while the
   * deadline allows: every write is safe to repeat (staged blocks by id,
   * conditional writes by their token, overwrites by content).
   */
  async attempt<T>(action: string, operation: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = AbortSignal.timeout(this.timeouts.operationMs);
    let pause = this.timeouts.retryDelayMs;
    for (;;) {
      const tryTimeout = AbortSignal.timeout(this.timeouts.tryMs);
      try {
        return await operation(AbortSignal.any([deadline, tryTimeout]));
      } catch (error) {
        if (deadline.aborted) throw this.timedOut(action);
        if (!tryTimeout.aborted) throw error;
      }
      try {
        await sleep(pause, undefined, { signal: deadline });
      } catch {
        throw this.timedOut(action);
      }
      pause = Math.min(pause * 2, this.timeouts.maxRetryDelayMs);
    }
  }

  private timedOut(action: string): AppBackupError {
    return new AppBackupError(
      "STORAGE_UNREACHABLE",
      `Azure Storage at ${this.location} did not answer in time to ${action}: the call timed out after ${seconds(this.timeouts.operationMs)} s, every try included.`,
      `Check the network to the storage account (firewall, proxy, DNS) and that the account is available, then run again; ${storageTimeoutEnvVar} sets this deadline in milliseconds.`,
    );
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

function containerClientFor(spec: AzureSpec, pipelineOptions: StoragePipelineOptions): ContainerClient {
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

  private readonly blob;

  constructor(
    private readonly store: AzureBlobStore,
    private readonly name: string,
  ) {
    this.blob = store.blob(name);
  }

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
    const committed = await this.store.writeOnce(`commit ${this.name}`, this.name, this.bytesWritten, (metadata, abortSignal) =>
      this.blob.commitBlockList(this.blockIds, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: contentTypeOf(this.name) },
        metadata,
        abortSignal,
      }),
    );
    if (!committed) throw this.store.describe(alreadyExists(), `commit ${this.name}`);
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
      .call(`upload ${this.name}`, (abortSignal) => this.blob.stageBlock(id, data, data.length, { abortSignal }))
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

function newWriteToken(): string {
  return randomBytes(12).toString("hex");
}

/** The service's answer when a write that must not replace anything finds the name taken. */
function alreadyExists(): RestError {
  return new RestError("The specified blob already exists.", { statusCode: 409, code: "BlobAlreadyExists" });
}

/**
 * 409/412: the name exists. A block list committed twice (the first reply
 * lost) can also come back as 400 InvalidBlockList: its blocks were used up.
 */
function isRefusedAsExisting(error: unknown): boolean {
  if (!(error instanceof RestError)) return false;
  if (error.statusCode === 409 || error.statusCode === 412) return true;
  const code = (error.details as { errorCode?: string } | undefined)?.errorCode ?? error.code;
  return error.statusCode === 400 && code === "InvalidBlockList";
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1);
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
