import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { RestError, type BlockBlobClient } from "@azure/storage-blob";
import { readingInto, type ReusableBufferSource } from "../archive/random-access-source.js";
import { AppBackupError } from "../errors.js";
import { displayUrl } from "../secrets.js";
import { AzureConnection, seconds, type AzureSpec } from "./azure-connection.js";
import { listPageSizeOf, type ListPageQuery } from "./azure-list.js";
import { AzureLocker } from "./azure-lock.js";
import { MalformedListPageError, type ListPage } from "./list-page.js";
import { assertWritableMetadata, visibleMetadata, writeTokenMetadataName } from "./object-metadata.js";
import { assertPlainObjectName } from "./object-name.js";
import { failOnStall } from "./stall-guard.js";
import { storageTimeoutEnvVar } from "./storage-timeouts.js";
import type { CallOptions, ListOptions, StagedUpload, Store, StoredObject, WriteOptions } from "./store.js";

/**
 * Block size for staged uploads: large enough for throughput, small enough to
 * keep memory flat (blocks in flight and the one being filled are held whole:
 * at 8 MiB a 20 GB backup into Azurite peaked at 215-220 MiB against 154 MiB
 * into a local folder). 50,000 blocks of 4 MiB make a 195 GiB blob.
 */
const blockSize = 4 * 1024 * 1024;
/**
 * Blocks uploading at once: three keep a connection's worth of data moving
 * while the next block fills. With four, a 20 GB backup into Azurite peaked at
 * 192.4 MiB, over the 200 MB bar, against 157.7 MiB into a local folder.
 */
const blockConcurrency = 3;

/**
 * Metadata every write carries: a token of that one write, so that a write
 * whose reply was lost, retried and then refused because the first try had
 * succeeded, is recognised as done rather than reported as a collision.
 */
const writeTokenKey = writeTokenMetadataName;
/** Times a streamed read picks up again from where a dropped connection left it. */
const downloadResumes = 3;

/** A container in Azure Blob Storage (or Azurite), reached by SAS URL, connection string or Entra ID. */
export class AzureBlobStore implements Store {
  readonly connection: AzureConnection;
  readonly locker: AzureLocker;
  private readonly canCreateContainer: boolean;

  constructor(spec: AzureSpec, env: NodeJS.ProcessEnv = process.env) {
    this.canCreateContainer = spec.kind !== "azure-sas";
    this.connection = new AzureConnection(spec, env);
    this.locker = new AzureLocker(this.connection);
  }

  get location(): string {
    return this.connection.location;
  }

  get sas() {
    return this.connection.sas;
  }

  /**
   * Built from the container's address without a blob client: a listing asks
   * for three addresses per backup, and a client per address costs a pipeline each.
   */
  urlOf(name: string): string {
    assertPlainObjectName(name, this.location);
    // Letters, digits and `-_.` need no escaping in a URL path; any other name is escaped as the SDK escapes it.
    if (/^[A-Za-z0-9._-]+$/.test(name)) return `${this.containerDisplayUrl}/${name}`;
    return displayUrl(this.connection.blob(name).url);
  }

  private get containerDisplayUrl(): string {
    return (this.displayedContainer ??= displayUrl(this.connection.container.url).replace(/\/$/, ""));
  }

  private displayedContainer: string | undefined;

  async check(options: CallOptions = {}): Promise<void> {
    const { container } = this.connection;
    try {
      // Listing one blob works with a container SAS too (container properties need an account credential).
      // The prefix of the write check's probe matches next to nothing, so the service answers without walking a large container's names.
      await this.connection.attempt(
        "list the container",
        (abortSignal) => container.listBlobsFlat({ abortSignal, prefix: "write-check." }).byPage({ maxPageSize: 1 }).next(),
        options.abortSignal,
      );
    } catch (error) {
      options.abortSignal?.throwIfAborted();
      if (error instanceof RestError && error.statusCode === 404 && this.canCreateContainer) {
        await this.connection.call("create the container", (abortSignal) => container.createIfNotExists({ abortSignal }), options.abortSignal);
        return;
      }
      throw this.connection.describe(error, "list the container");
    }
  }

  /**
   * Page by page, each under its own deadline (a container of many backups
   * takes many pages). A whole listing asks for the next page as soon as it
   * has one, so the service prepares it while this one is consumed; a probe
   * (`pageSize` given) asks for no page it may never read.
   */
  async *list(prefix = "", options: ListOptions = {}): AsyncIterable<StoredObject> {
    if (prefix) assertPlainObjectName(prefix, this.location);
    const pageSize = listPageSizeOf(options.pageSize);
    const includeMetadata = options.includeMetadata ?? false;
    const readAhead = options.pageSize === undefined;
    const stop = new AbortController();
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, stop.signal]) : stop.signal;
    const pageAt = (marker: string | undefined) =>
      this.connection.call("list the container", (abortSignal) => this.readListPage({ prefix, marker, pageSize, includeMetadata }, abortSignal), signal);
    let marker: string | undefined;
    let next: Promise<ListPage> | undefined = pageAt(undefined);
    try {
      while (next) {
        const page: ListPage = await next;
        next = undefined;
        // A service that hands back the marker it was given would otherwise be asked for the same page forever.
        if (page.nextMarker !== undefined && page.nextMarker === marker) throw this.malformedListing("it points to itself as the next page");
        marker = page.nextMarker;
        if (marker && readAhead) next = pageAt(marker);
        for (const blob of page.blobs) {
          if (!blob.name.startsWith(prefix)) throw this.malformedListing(`it holds ${JSON.stringify(blob.name)}, outside the prefix ${JSON.stringify(prefix)} asked for`);
          const metadata = includeMetadata ? visibleMetadata(blob.metadata) : undefined;
          yield { name: blob.name, size: blob.size, lastModified: blob.lastModified, ...(metadata ? { metadata } : {}) };
        }
        if (marker && !readAhead) next = pageAt(marker);
      }
    } finally {
      if (next) {
        // Left early: the page asked for ahead is not wanted.
        next.catch(() => undefined);
        stop.abort();
      }
    }
  }

  private async readListPage(query: ListPageQuery, abortSignal: AbortSignal): Promise<ListPage> {
    try {
      return await this.connection.container.listPage(query, abortSignal);
    } catch (error) {
      if (error instanceof MalformedListPageError) throw this.malformedListing(error.message);
      throw error;
    }
  }

  private malformedListing(why: string): AppBackupError {
    return new AppBackupError(
      "STORAGE",
      `Azure Storage at ${this.location} answered a listing of the container with a reply that cannot be used: ${why}.`,
      "Check that backup.storage points at Azure Blob Storage (or Azurite) and not at a proxy or another service, then run again.",
    );
  }

  async exists(name: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.stat(name, options)) !== undefined;
  }

  async stat(name: string, options: CallOptions = {}): Promise<StoredObject | undefined> {
    const blob = this.connection.blob(name);
    try {
      const properties = await this.connection.attempt(`read ${name}`, (abortSignal) => blob.getProperties({ abortSignal }), options.abortSignal);
      const metadata = visibleMetadata(properties.metadata);
      return { name, size: properties.contentLength ?? 0, lastModified: properties.lastModified ?? new Date(0), ...(metadata ? { metadata } : {}) };
    } catch (error) {
      options.abortSignal?.throwIfAborted();
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw this.connection.describe(error, `read ${name}`);
    }
  }

  /**
   * The deadline covers the request until its reply starts; after that the
   * bytes may take as long as they need, as long as they keep coming: a pause
   * longer than one try fails the read instead of hanging it.
   */
  async read(name: string, range?: { offset: number; length: number }, options: CallOptions = {}): Promise<Readable> {
    const blob = this.connection.blob(name);
    const { timeouts } = this.connection;
    if (range && range.length === 0) return Readable.from([]);
    return this.connection.call(
      `read ${name}`,
      async (deadline) => {
        // Its own controller: the deadline's signal would otherwise stay attached to the body and cut a long download.
        const request = new AbortController();
        const onDeadline = () => request.abort(deadline.reason);
        if (deadline.aborted) onDeadline();
        deadline.addEventListener("abort", onDeadline, { once: true });
        try {
          const response = await blob.download(range?.offset ?? 0, range?.length, {
            abortSignal: options.abortSignal ? AbortSignal.any([request.signal, options.abortSignal]) : request.signal,
            maxRetryRequests: downloadResumes,
          });
          return failOnStall(response.readableStreamBody as Readable, timeouts.tryMs, () => {
            const stalled = new AppBackupError(
              "STORAGE_UNREACHABLE",
              `Azure Storage at ${this.location} stopped sending ${name}: no data for ${seconds(timeouts.tryMs)} s.`,
              `Check the network to the storage account (firewall, proxy) and run again; ${storageTimeoutEnvVar} sets the deadline in milliseconds.`,
            );
            request.abort(stalled);
            return stalled;
          });
        } finally {
          deadline.removeEventListener("abort", onDeadline);
        }
      },
      options.abortSignal,
    );
  }

  async readAll(name: string, options: CallOptions = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.read(name, undefined, options)) chunks.push(chunk as Buffer);
    } catch (error) {
      options.abortSignal?.throwIfAborted();
      throw this.connection.describe(error, `read ${name}`);
    }
    return Buffer.concat(chunks);
  }

  /** Ranged reads: every read is a round trip, so the source says it is not local and readers ask for fewer, larger ranges. */
  async openRandomAccess(name: string, options: CallOptions = {}): Promise<ReusableBufferSource> {
    const info = await this.stat(name, options);
    if (!info) throw new Error(`${name} does not exist in ${this.location}.`);
    const readInto = async (target: Uint8Array, offset: number, length: number) => {
      if (length === 0) return;
      let filled = 0;
      for await (const chunk of await this.read(name, { offset, length }, options)) {
        const bytes = chunk as Buffer;
        if (filled + bytes.length > length) throw new RangeError(`${name}: the storage returned more than the ${length} bytes asked for at offset ${offset}.`);
        target.set(bytes, filled);
        filled += bytes.length;
      }
      if (filled !== length) throw new RangeError(`${name} ended at ${offset + filled} bytes while reading ${length} bytes at offset ${offset}.`);
    };
    return readingInto({ size: info.size, local: false, readInto });
  }

  async upload(name: string, options: WriteOptions = {}): Promise<StagedUpload> {
    options.abortSignal?.throwIfAborted();
    const blob = this.connection.blob(name);
    assertWritableMetadata(options.metadata ?? {}, name);
    return new BlockUpload(this, blob, name, { ...options.metadata }, options.abortSignal);
  }

  async put(name: string, data: Buffer | string, options: WriteOptions & { overwrite?: boolean } = {}): Promise<void> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const blob = this.connection.blob(name);
    assertWritableMetadata(options.metadata ?? {}, name);
    const headers = { blobContentType: contentTypeOf(name) };
    if (options.overwrite) {
      // Writing the same bytes again is harmless, so a retried overwrite needs no check.
      await this.connection.call(
        `write ${name}`,
        (abortSignal) => blob.upload(body, body.length, { blobHTTPHeaders: headers, metadata: { ...options.metadata, [writeTokenKey]: newWriteToken() }, abortSignal }),
        options.abortSignal,
      );
      return;
    }
    if (!(await this.create(name, body, options))) {
      throw this.connection.describe(alreadyExists(), `write ${name}`);
    }
  }

  async create(name: string, data: Buffer | string, options: WriteOptions = {}): Promise<boolean> {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const blob = this.connection.blob(name);
    assertWritableMetadata(options.metadata ?? {}, name);
    return this.writeOnce(
      `write ${name}`,
      name,
      body.length,
      options.metadata ?? {},
      (metadata, abortSignal) =>
        blob.upload(body, body.length, {
          conditions: { ifNoneMatch: "*" },
          blobHTTPHeaders: { blobContentType: contentTypeOf(name) },
          metadata,
          abortSignal,
        }),
      options.abortSignal,
    );
  }

  async setMetadata(name: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<boolean> {
    assertWritableMetadata(metadata, name);
    const blob = this.connection.blob(name);
    try {
      await this.connection.attempt(`write the metadata of ${name}`, (abortSignal) => blob.setMetadata(metadata, { abortSignal }), options.abortSignal);
      return true;
    } catch (error) {
      options.abortSignal?.throwIfAborted();
      if (error instanceof RestError && error.statusCode === 404) return false;
      throw this.connection.describe(error, `write the metadata of ${name}`);
    }
  }

  async delete(name: string, options: CallOptions = {}): Promise<void> {
    const blob = this.connection.blob(name);
    await this.connection.call(`delete ${name}`, (abortSignal) => blob.deleteIfExists({ deleteSnapshots: "include", abortSignal }), options.abortSignal);
  }

  /**
   * A write that must not replace anything (`If-None-Match: *`). True when it
   * happened, false when the name was already taken by someone else. When the
   * service refuses because the name exists, the blob's write token tells a
   * try of this very write that succeeded but whose reply was lost (done) from
   * a real collision. The token travels beside the caller's `metadata`, in
   * the same request, so the object is never visible without either.
   */
  async writeOnce(
    action: string,
    name: string,
    size: number,
    metadata: Readonly<Record<string, string>>,
    write: (metadata: Record<string, string>, abortSignal: AbortSignal) => Promise<unknown>,
    cancel?: AbortSignal,
  ): Promise<boolean> {
    const token = newWriteToken();
    try {
      await this.connection.attempt(action, (abortSignal) => write({ ...metadata, [writeTokenKey]: token }, abortSignal), cancel);
      return true;
    } catch (error) {
      cancel?.throwIfAborted();
      if (!isRefusedAsExisting(error)) throw this.connection.describe(error, action);
      if (await this.carriesWrite(name, token, size, action)) return true;
      return false;
    }
  }

  private async carriesWrite(name: string, token: string, size: number, action: string): Promise<boolean> {
    try {
      const properties = await this.connection.attempt(action, (abortSignal) => this.connection.blob(name).getProperties({ abortSignal }));
      return properties.metadata?.[writeTokenKey] === token && properties.contentLength === size;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return false;
      throw this.connection.describe(error, action);
    }
  }
}

class BlockUpload implements StagedUpload {
  bytesWritten = 0;
  private readonly blockIds: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** The block being filled; writers lend their chunks only for the length of a write, so they are copied here. */
  private block?: Buffer;
  private blockLength = 0;
  /**
   * Block buffers whose upload has finished, used again: a fresh 4 MiB buffer
   * per block is freed only when the collector gets to its small owner, and a
   * 20 GB upload piled up tens of MB of them (measured: 215 MiB peak).
   */
  private readonly spareBlocks: Buffer[] = [];
  private failure: unknown;
  private readonly uploadId = randomBytes(8).toString("hex");

  constructor(
    private readonly store: AzureBlobStore,
    private readonly blob: BlockBlobClient,
    private readonly name: string,
    private readonly metadata: Readonly<Record<string, string>>,
    private readonly cancel?: AbortSignal,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, blockSize - this.blockLength);
      this.block ??= this.spareBlocks.pop() ?? Buffer.allocUnsafeSlow(blockSize);
      chunk.copy(this.block, this.blockLength, at, at + take);
      this.blockLength += take;
      at += take;
      if (this.blockLength === blockSize) await this.stageBlock();
    }
    this.bytesWritten += chunk.length;
  }

  /** Not given up by the upload's signal: a commit whose reply is lost may still have made the object visible. */
  async commit(): Promise<void> {
    if (this.blockLength > 0 || this.blockIds.length === 0) await this.stageBlock();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    const committed = await this.store.writeOnce(
      `commit ${this.name}`,
      this.name,
      this.bytesWritten,
      this.metadata,
      (metadata, abortSignal) =>
        this.blob.commitBlockList(this.blockIds, {
          conditions: { ifNoneMatch: "*" },
          blobHTTPHeaders: { blobContentType: contentTypeOf(this.name) },
          metadata,
          abortSignal,
        }),
    );
    if (!committed) throw this.store.connection.describe(alreadyExists(), `commit ${this.name}`);
  }

  async abort(): Promise<void> {
    // Uncommitted blocks are invisible and expire on their own; nothing under the name changes.
    this.failure ??= new Error("upload aborted");
    await Promise.allSettled(this.inFlight);
  }

  private async stageBlock(): Promise<void> {
    // The staged block is handed over whole; the next write starts a new one.
    const whole = this.block;
    const data = whole?.subarray(0, this.blockLength) ?? Buffer.alloc(0);
    this.block = undefined;
    this.blockLength = 0;
    while (this.inFlight.size >= blockConcurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    // Block ids must all have the same length within a blob.
    const id = Buffer.from(`${this.uploadId}-${String(this.blockIds.length).padStart(8, "0")}`).toString("base64");
    this.blockIds.push(id);
    const task: Promise<void> = this.store.connection
      .call(`upload ${this.name}`, (abortSignal) => this.blob.stageBlock(id, data, data.length, { abortSignal }), this.cancel)
      .then(
        () => {
          // Staged: the request is over, so its bytes are no longer read. A failed one's may still be, and is not reused.
          if (whole && this.spareBlocks.length < blockConcurrency) this.spareBlocks.push(whole);
        },
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

function contentTypeOf(name: string): string {
  if (name.endsWith(".zip")) return "application/zip";
  if (name.endsWith(".xml")) return "application/xml";
  if (name.endsWith(".log")) return "text/plain; charset=utf-8";
  if (name.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

