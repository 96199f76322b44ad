import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { LOCAL_HEADER_SIZE, SIGNATURE } from "../archive/zip-format.js";
import type { ZipIndex } from "../archive/zip-index.js";
import { ExtractPool, type ExtractMessage } from "./extract-pool.js";
import { FIELD, FIELDS, IN_MEMORY_ENTRY_BYTES } from "./extract-worker-source.js";
import type { ZipByteSource } from "./store-source.js";

/** One entry to read, check and (optionally) write. */
export interface ExtractItem {
  /** The entry's name, for messages and returned content. */
  name: string;
  /** The entry's row in the zip index (where its data is, how it is stored). */
  zipIndex: number;
  /** The entry's row in the manifest (`digests`), whose SHA-256 the content must have. */
  digestIndex: number;
  /** Also check the content's CRC-32 against the zip's. */
  checkCrc?: boolean;
  /** Absolute path of the file to create; absent (and no `targetRoot`) to only check the entry. */
  target?: string;
  /**
   * The file is created at this folder plus the entry's name without its first
   * path segment (`fs/site/a.txt` → `{targetRoot}/site/a.txt`); the path is made
   * only when the entry is handed to a worker, so tens of thousands of paths
   * are never held at once.
   */
  targetRoot?: string;
  /** Permission bits of the created file. */
  mode?: number;
  mtimeMs?: number;
  owner?: { uid: number; gid: number };
  /** Hand the checked content back (small entries: link targets, `meta`). */
  returnData?: boolean;
}

/** Why an entry failed: its content is not what the manifest says, or it could not be written. */
export class EntryFailure extends Error {
  constructor(
    readonly entryName: string,
    readonly corrupt: boolean,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${entryName}: ${reason}`);
  }
}

export interface ExtractProgress {
  files: number;
  bytes: number;
}

export interface ExtractOptions {
  /**
   * Entries with stored data above this many bytes, or that declare more than
   * IN_MEMORY_ENTRY_BYTES inflated, are streamed in chunks; smaller ones travel in batches.
   */
  largeEntryBytes?: number;
  batchBytes?: number;
  chunkBytes?: number;
  /** Stored bytes read but not yet processed by a worker, at most. */
  maxInFlightBytes?: number;
  workers?: number;
  /** Workers to use (warmed up by the caller); closed by the caller. By default a pool is made and closed here. */
  pool?: ExtractPool;
  /** The manifest's entries, whose digests the items name by row. */
  digests: EntryTable;
  onProgress?: (progress: ExtractProgress) => void;
  /** Called for an entry whose content does not match instead of stopping (verification lists them all). */
  onCorrupt?: (failure: EntryFailure) => void;
  signal?: AbortSignal;
}

type Job =
  | { kind: "batch"; start: number; end: number; items: ExtractItem[]; limits: number[] }
  | { kind: "large"; item: ExtractItem; limit: number };

/** Content handed back to the caller is held whole: an entry asked for that declares more is refused unread. */
export const MAX_RETURNED_BYTES = 16 * 1024 * 1024;

const MAX_BATCH_ITEMS = 2000;
/** A local header with the longest name and extra field its 16-bit lengths allow. */
const MAX_LOCAL_HEADER_BYTES = LOCAL_HEADER_SIZE + 2 * 0xffff;
/** Bytes between two entries (folder entries, descriptors) read along rather than splitting a batch. */
const MAX_BATCH_GAP = 64 * 1024;

/**
 * Reads the archive in ascending offset order, a few ranges at a time, and
 * hands the stored bytes to worker threads that inflate, check and write them.
 * Memory stays within `maxInFlightBytes` plus a worker's current entry. The
 * first failure stops everything: reads stop, workers are terminated, and the
 * failure is thrown (the caller discards what was written).
 *
 * Resolves to the content of the entries that asked for it, by entry name.
 */
export async function extractEntries(
  source: ZipByteSource,
  zip: ZipIndex,
  items: readonly ExtractItem[],
  options: ExtractOptions,
): Promise<Map<string, Buffer>> {
  // One size for batches and chunks: every read buffer fits every read, so a handful are reused throughout.
  const largeEntryBytes = options.largeEntryBytes ?? 1024 * 1024;
  const batchBytes = options.batchBytes ?? 1024 * 1024;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  // A local file answers at once, so little needs to be read ahead; blob storage needs more in flight to hide its round trips.
  const maxInFlight = options.maxInFlightBytes ?? (source.local ? 4 : 8) * 1024 * 1024;

  const { table } = zip;
  const oversized = new Set(items.filter((item) => item.returnData && table.sizes[item.zipIndex]! > MAX_RETURNED_BYTES));
  const jobs = planJobs(oversized.size ? items.filter((item) => !oversized.has(item)) : items, zip, largeEntryBytes, batchBytes);
  const returned = new Map<string, Buffer>();
  const progress: ExtractProgress = { files: 0, bytes: 0 };
  let failure: Error | undefined;
  let failed!: (error: Error) => void;
  const failedPromise = new Promise<never>((_, reject) => (failed = reject));
  failedPromise.catch(() => undefined);
  const fail = (error: Error) => {
    if (failure) return;
    failure = error;
    budget.abort(error);
    failed(error);
  };
  const pool = options.pool ?? new ExtractPool(options.workers);
  pool.onFatal = fail;
  const budget = new ByteBudget(maxInFlight);
  const reads = new ByteBudget(4);
  const buffers = new BufferRecycler(chunkBytes, maxInFlight);
  const onAbort = () => fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error("The restore was aborted."));
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const failed_ = (item: ExtractItem, failure: WorkerFailure) => {
    const entryFailure = new EntryFailure(item.name, failure.corrupt, failure.message, failure.code);
    if (failure.corrupt && options.onCorrupt) options.onCorrupt(entryFailure);
    else fail(entryFailure);
  };
  for (const item of oversized) {
    failed_(item, { index: 0, corrupt: true, message: `it declares ${table.sizes[item.zipIndex]} bytes, more than the ${MAX_RETURNED_BYTES} such an entry may have` });
  }
  const done = (items: ExtractItem[]) => {
    for (const item of items) {
      progress.files++;
      progress.bytes += table.sizes[item.zipIndex]!;
    }
    options.onProgress?.(progress);
  };

  /** Reads into a recycled buffer: workers send each buffer back once done with it. */
  const read = async (offset: number, length: number): Promise<ArrayBuffer> => {
    const buffer = buffers.take(length);
    await reads.reserve(1);
    try {
      await source.readInto(new Uint8Array(buffer, 0, length), offset, length);
      return buffer;
    } finally {
      reads.release(1);
    }
  };
  const recycle = (message: ExtractMessage) => {
    if (message.recycled instanceof ArrayBuffer) buffers.give(message.recycled);
  };

  /** The batch's span is reserved in the budget by the caller. */
  const runBatch = async (job: Extract<Job, { kind: "batch" }>) => {
    const span = job.end - job.start;
    const data = await read(job.start, span);
    if (failure) return;
    const items = job.items;
    const described = describeItems(table, options.digests, items.map((item, index) => ({ item, at: table.offsets[item.zipIndex]! - job.start, limit: job.limits[index]! - job.start })));
    await new Promise<void>((resolve) => {
      const { id, post } = pool.start("batch", (message: ExtractMessage) => {
        pool.answered(id, span);
        pool.finish(id);
        budget.release(span);
        recycle(message);
        const failures = message.failures as WorkerFailure[];
        for (const { index, data: content } of message.returned as Array<{ index: number; data: ArrayBuffer }>) {
          returned.set(items[index]!.name, Buffer.from(content));
        }
        if (failures.length === 0) done(items);
        else {
          const failedIndexes = new Set(failures.map((f) => f.index));
          for (const failure of failures) failed_(items[failure.index]!, failure);
          done(items.filter((_, index) => !failedIndexes.has(index)));
        }
        resolve();
      });
      post({ type: "batch", data, length: span, ...described }, [data, described.fields.buffer as ArrayBuffer, described.sha256]);
      failedPromise.catch(() => resolve());
    });
  };

  /** The first chunk is reserved in the budget by the caller; the others are reserved here, in turn with other jobs. */
  const runLarge = async (job: Extract<Job, { kind: "large" }>) => {
    const { item, limit } = job;
    const offset = table.offsets[item.zipIndex]!;
    const compressedSize = table.compressedSizes[item.zipIndex]!;
    const headerGuess = Math.min(LOCAL_HEADER_SIZE + Buffer.byteLength(item.name) + 512, limit - offset);
    const header = await source.read(offset, headerGuess);
    const damaged = (reason: string) => {
      const entryFailure = new EntryFailure(item.name, true, reason);
      if (!options.onCorrupt) return fail(entryFailure);
      options.onCorrupt(entryFailure);
      budget.release(Math.min(chunkBytes, compressedSize));
    };
    if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== SIGNATURE.localHeader) return damaged("its local header is missing or damaged");
    const headerLength = LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
    const dataStart = offset + headerLength;
    if (dataStart + compressedSize > limit) return damaged("its data runs into the next entry");
    let unacknowledged = 0;
    let ackWaiter: (() => void) | undefined;
    /** The worker found the entry bad (e.g. it inflates past its size): the rest of its bytes are not read. */
    let entryFailed = false;
    let finish!: (message: ExtractMessage) => void;
    const finished = new Promise<ExtractMessage>((resolve) => (finish = resolve));
    const { id, post } = pool.start("large", (message: ExtractMessage) => {
      if (message.type === "ack") {
        const bytes = message.bytes as number;
        pool.answered(id, bytes);
        budget.release(bytes);
        recycle(message);
        if (message.failed) entryFailed = true;
        unacknowledged--;
        ackWaiter?.();
        ackWaiter = undefined;
      } else if (message.type === "done") {
        pool.finish(id);
        finish(message);
      }
    });
    const described = describeItems(table, options.digests, [{ item, at: 0, limit: 0 }]);
    post({ type: "open", ...described }, [described.fields.buffer as ArrayBuffer, described.sha256]);
    for (let at = 0; at < compressedSize && !failure && !entryFailed; at += chunkBytes) {
      const length = Math.min(chunkBytes, compressedSize - at);
      if (at > 0) await budget.reserve(length);
      if (failure) return;
      const data = await read(dataStart + at, length);
      if (failure) return;
      // A few chunks queued per entry keep the worker busy without one entry taking the whole budget.
      while (unacknowledged >= 3 && !failure) await new Promise<void>((resolve) => (ackWaiter = resolve));
      unacknowledged++;
      post({ type: "chunk", data, length }, [data]);
    }
    if (failure) return;
    post({ type: "end" });
    const message = await Promise.race([finished, failedPromise.catch(() => undefined)]);
    if (!message) return;
    if (message.failure) failed_(item, message.failure as WorkerFailure);
    else {
      if (message.data) returned.set(item.name, Buffer.from(message.data as ArrayBuffer));
      done([item]);
    }
  };

  const running: Array<Promise<void>> = [];
  try {
    for (const job of jobs) {
      if (failure) break;
      // Jobs start in archive order, each once its first read fits in the budget.
      await budget.reserve(job.kind === "batch" ? job.end - job.start : Math.min(chunkBytes, table.compressedSizes[job.item.zipIndex]!));
      if (failure) break;
      const run = (job.kind === "batch" ? runBatch(job) : runLarge(job)).catch((error: Error) => fail(error));
      running.push(run);
    }
    await Promise.all(running);
    if (failure) throw failure;
    return returned;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    pool.onFatal = () => undefined;
    if (!options.pool) await pool.close();
  }
}

interface WorkerFailure {
  index: number;
  corrupt: boolean;
  message: string;
  code?: string;
}

/** Entries in the worker's compact form (see the worker source). */
function describeItems(table: ZipIndex["table"], digests: EntryTable, list: Array<{ item: ExtractItem; at: number; limit: number }>) {
  const fields = new Float64Array(list.length * FIELDS);
  const sha256 = new ArrayBuffer(list.length * 32);
  const expected = new Uint8Array(sha256);
  const targets: string[] = [];
  list.forEach(({ item, at, limit }, index) => {
    const base = index * FIELDS;
    const row = item.zipIndex;
    const mode = item.mode ?? 0o644;
    fields[base + FIELD.at] = at;
    fields[base + FIELD.limit] = limit;
    fields[base + FIELD.method] = table.methods[row]!;
    fields[base + FIELD.compressedSize] = table.compressedSizes[row]!;
    fields[base + FIELD.size] = table.sizes[row]!;
    fields[base + FIELD.crc32] = item.checkCrc ? table.crc32s[row]! : -1;
    fields[base + FIELD.mode] = mode;
    // The umask may have taken bits off the creation mode; set them explicitly then.
    fields[base + FIELD.chmod] = (mode & processUmask) !== 0 ? 1 : 0;
    fields[base + FIELD.mtimeMs] = item.mtimeMs ?? Date.now();
    fields[base + FIELD.uid] = item.owner?.uid ?? -1;
    fields[base + FIELD.gid] = item.owner?.gid ?? -1;
    fields[base + FIELD.returnData] = item.returnData ? 1 : 0;
    // Without an expected digest, one that no content has: the entry is reported as not matching the manifest.
    if (digests.hasSha256[item.digestIndex]) expected.set(digests.sha256.subarray(item.digestIndex * 32, item.digestIndex * 32 + 32), index * 32);
    else expected.fill(0xff, index * 32, index * 32 + 32);
    targets.push(item.target ?? (item.targetRoot ? targetUnder(item.targetRoot, item.name) : ""));
  });
  return { fields, sha256, targets: targets.join("\0") };
}

/** `{root}/{name without its first segment}`, with the platform's separators; names were checked, so no normalizing is needed. */
function targetUnder(root: string, name: string): string {
  const relative = name.slice(name.indexOf("/") + 1);
  return `${root}${path.sep}${path.sep === "/" ? relative : relative.split("/").join(path.sep)}`;
}

const processUmask = readUmask();

function readUmask(): number {
  // Reading the umask means setting it; set it straight back.
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}

/**
 * Jobs in archive order: runs of small entries as batches (one read each),
 * large entries alone. Each entry's bytes must end where the next entry of
 * the archive (or the central directory) begins.
 */
function planJobs(items: readonly ExtractItem[], zip: ZipIndex, largeEntryBytes: number, batchBytes: number): Job[] {
  const { table } = zip;
  const offsets = table.offsets.slice(0, table.count).sort();
  const sorted = [...items].sort((a, b) => table.offsets[a.zipIndex]! - table.offsets[b.zipIndex]!);
  const jobs: Job[] = [];
  let batch: Extract<Job, { kind: "batch" }> | undefined;
  let next = 0;
  for (const item of sorted) {
    const start = table.offsets[item.zipIndex]!;
    while (next < offsets.length && offsets[next]! <= start) next++;
    const limit = next < offsets.length ? offsets[next]! : zip.dataLimit;
    const compressedSize = table.compressedSizes[item.zipIndex]!;
    if (compressedSize > largeEntryBytes || table.sizes[item.zipIndex]! > IN_MEMORY_ENTRY_BYTES) {
      batch = undefined;
      jobs.push({ kind: "large", item, limit });
      continue;
    }
    // A batch reads its entries whole: bytes between an entry's data and the next entry are not its own to read.
    const batchLimit = Math.min(limit, start + MAX_LOCAL_HEADER_BYTES + compressedSize);
    if (!batch || start - batch.end > MAX_BATCH_GAP || batchLimit - batch.start > batchBytes || batch.items.length >= MAX_BATCH_ITEMS || start < batch.end) {
      batch = { kind: "batch", start, end: batchLimit, items: [], limits: [] };
      jobs.push(batch);
    }
    batch.items.push(item);
    batch.limits.push(batchLimit);
    batch.end = batchLimit;
  }
  return jobs;
}

/**
 * Read buffers, reused: each goes to a worker and comes back with its answer.
 * Sizes are rounded up to whole `unit`s so buffers fit many reads; a bounded
 * number is kept, the rest left to the garbage collector.
 */
class BufferRecycler {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  constructor(
    private readonly unit: number,
    private readonly maxFreeBytes: number,
  ) {}

  take(length: number): ArrayBuffer {
    const capacity = this.capacityFor(length);
    const buffer = this.free.get(capacity)?.pop();
    if (buffer) {
      this.freeBytes -= capacity;
      return buffer;
    }
    return new ArrayBuffer(capacity);
  }

  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || this.freeBytes + buffer.byteLength > this.maxFreeBytes) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.freeBytes += buffer.byteLength;
  }

  private capacityFor(length: number): number {
    return Math.max(1, Math.ceil(length / this.unit)) * this.unit;
  }
}

/** A counting semaphore over bytes; a request larger than the whole budget is let through alone. */
class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ amount: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private failure?: Error;

  constructor(private readonly capacity: number) {}

  async reserve(amount: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.fits(amount) && this.waiting.length === 0) {
      this.used += amount;
      return;
    }
    await new Promise<void>((resolve, reject) => this.waiting.push({ amount, resolve, reject }));
  }

  release(amount: number): void {
    this.used -= amount;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.amount)) {
      const next = this.waiting.shift()!;
      this.used += next.amount;
      next.resolve();
    }
  }

  abort(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  private fits(amount: number): boolean {
    return this.used === 0 || this.used + amount <= this.capacity;
  }
}
