import { BufferRecycler, ByteBudget } from "./extract-flow.js";
import type { BatchJob, ExtractJob, LargeJob } from "./extract-jobs.js";
import type { ExtractMessage, ExtractPool } from "./extract-pool.js";
import type { EntryDescription } from "./extract-protocol.js";
import { EntryFailure, type ExtractItem, type ExtractOptions, type ExtractProgress, type WorkerFailure } from "./extract-request.js";
import type { ReusableBufferSource } from "./random-access-source.js";
import { describeItems } from "./worker-entries.js";
import { LOCAL_HEADER_SIZE, SIGNATURE } from "./zip-format.js";
import type { ZipIndex } from "./zip-index.js";

/**
 * Chunks of a large entry read ahead of its worker: enough to keep it busy.
 * They are its own, outside the batches' budget, so a large entry never holds
 * up the batches behind it that another worker could take.
 */
const MAX_QUEUED_CHUNKS = 3;
/** Ranges read from the source at once. */
const MAX_CONCURRENT_READS = 4;
/**
 * Batches sent and not yet answered, per worker: two keep a worker busy while
 * its next batch is read; more would only hold more items (a batch of tiny
 * entries is thousands of them) and their bookkeeping.
 */
export const MAX_BATCHES_PER_WORKER = 3;

/**
 * One extraction's jobs handed to worker threads: reads in budget, every
 * answer booked, and the first failure stopping everything (reads stop,
 * waiting jobs give up, the failure is thrown at the end).
 */
export class ExtractDispatch {
  /**
   * Content handed back, by entry name: the meta and every link's target. It
   * is the one thing here that grows with the archive, by the number of links.
   */
  readonly returned = new Map<string, Buffer>();
  private readonly progress: ExtractProgress = { files: 0, bytes: 0 };
  private readonly table: ZipIndex["table"];
  private readonly budget: ByteBudget;
  /** Batches sent at once, whatever their bytes: what bounds the items held, as many tiny entries fit in few bytes. */
  private readonly batchSlots: ByteBudget;
  /** Large entries streamed at once: one per worker, so the others' chunks stay bounded. */
  private readonly largeSlots: ByteBudget;
  private readonly reads = new ByteBudget(MAX_CONCURRENT_READS);
  private readonly buffers: BufferRecycler;
  /** Buffers that carry a batch's description to its worker and come back with the answer. */
  private readonly descriptions = new BufferRecycler(64 * 1024, 1024 * 1024);
  private failure: Error | undefined;
  /**
   * Told of the first failure: the jobs waiting on a worker, each until it is
   * answered. A job drops its listener when done, so nothing of a finished
   * job (its items, its buffers) stays reachable.
   */
  private readonly failureListeners = new Set<() => void>();

  constructor(
    private readonly source: ReusableBufferSource,
    zip: ZipIndex,
    private readonly pool: ExtractPool,
    /** runners: the workers jobs go to (1 on the main thread). */
    private readonly options: ExtractOptions & { chunkBytes: number; maxInFlightBytes: number; onMainThread: boolean; runners: number },
  ) {
    this.table = zip.table;
    this.budget = new ByteBudget(options.maxInFlightBytes);
    this.batchSlots = new ByteBudget(options.runners * MAX_BATCHES_PER_WORKER);
    this.largeSlots = new ByteBudget(options.runners);
    this.buffers = new BufferRecycler(options.chunkBytes, options.maxInFlightBytes + options.runners * MAX_QUEUED_CHUNKS * options.chunkBytes);
  }

  /** The first failure, if any; it stops everything. */
  get firstFailure(): Error | undefined {
    return this.failure;
  }

  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.budget.abort(error);
    this.batchSlots.abort(error);
    this.largeSlots.abort(error);
    for (const listener of this.failureListeners) listener();
    this.failureListeners.clear();
  }

  /** Calls `listener` on the first failure (at once if there was one) until the returned function is called. */
  private onFailure(listener: () => void): () => void {
    if (this.failure) {
      listener();
      return () => undefined;
    }
    this.failureListeners.add(listener);
    return () => void this.failureListeners.delete(listener);
  }

  /** A bad entry: listed when the caller collects them, else the end of the extraction. */
  entryFailed(name: string, failure: WorkerFailure): void {
    const entryFailure = new EntryFailure(name, failure.corrupt, failure.message, failure.code);
    if (failure.corrupt && this.options.onCorrupt) this.options.onCorrupt(entryFailure);
    else this.fail(entryFailure);
  }

  /**
   * Waits until a batch may be sent (a batch slot is free and its read fits in
   * the budget), or a large entry's slot is free; rejects once the extraction
   * has failed. The caller pulls no more items meanwhile.
   */
  async reserve(job: ExtractJob): Promise<void> {
    if (job.kind === "large") return this.largeSlots.reserve(1);
    await this.batchSlots.reserve(1);
    try {
      await this.budget.reserve(job.end - job.start);
    } catch (error) {
      this.batchSlots.release(1);
      throw error;
    }
  }

  /** Runs a job that `reserve` made room for; a failure is recorded, not thrown. */
  run(job: ExtractJob): Promise<void> {
    return (job.kind === "batch" ? this.runBatch(job) : this.runLarge(job)).catch((error: Error) => this.fail(error));
  }

  /** `files` more entries done, of `bytes` inflated in all. */
  private done(files: number, bytes: number): void {
    this.progress.files += files;
    this.progress.bytes += bytes;
    this.options.onProgress?.(this.progress);
  }

  /** Reads into a recycled buffer: workers send each buffer back once done with it. */
  private async read(offset: number, length: number): Promise<ArrayBuffer> {
    const buffer = this.buffers.take(length);
    await this.reads.reserve(1);
    try {
      await this.source.readInto(new Uint8Array(buffer, 0, length), offset, length);
      return buffer;
    } finally {
      this.reads.release(1);
    }
  }

  private recycle(message: ExtractMessage): void {
    if (message.recycled instanceof ArrayBuffer) this.buffers.give(message.recycled);
    if (message.recycledDescription instanceof ArrayBuffer) this.descriptions.give(message.recycledDescription);
  }

  /** A batch's description copied into a recycled buffer, as the views the worker reads. */
  private carry(described: EntryDescription): { description: ArrayBuffer; fields: Float64Array; sha256: Uint8Array; targets: string } {
    const fieldBytes = described.fields.byteLength;
    const description = this.descriptions.take(fieldBytes + described.sha256.byteLength);
    const fields = new Float64Array(description, 0, described.fields.length);
    fields.set(described.fields);
    const sha256 = new Uint8Array(description, fieldBytes, described.sha256.byteLength);
    sha256.set(described.sha256);
    return { description, fields, sha256, targets: described.targets };
  }

  /** The batch's span is reserved in the budget by `reserve`. */
  private async runBatch(job: BatchJob): Promise<void> {
    const span = job.end - job.start;
    const data = await this.read(job.start, span);
    if (this.failure) return;
    const { described } = job;
    await new Promise<void>((resolve) => {
      const stopListening = this.onFailure(resolve);
      const answer = (message: ExtractMessage) => {
        stopListening();
        this.pool.answered(id, span);
        this.pool.finish(id);
        this.budget.release(span);
        this.batchSlots.release(1);
        this.recycle(message);
        this.batchAnswered(job, message);
        resolve();
      };
      const { id, post } = this.pool.start("batch", answer, this.options.onMainThread);
      const carried = this.carry(described);
      post({ type: "batch", data, length: span, ...carried }, [data, carried.description]);
    });
  }

  /** Entries of a batch are named by their manifest rows, as the items that made it are gone. */
  private batchAnswered(job: BatchJob, message: ExtractMessage): void {
    const { digests } = this.options;
    const { zipRows, digestRows } = job;
    for (const { index, data: content } of message.returned as Array<{ index: number; data: ArrayBuffer }>) {
      this.returned.set(digests.name(digestRows[index]!), Buffer.from(content));
    }
    const failed = new Set<number>();
    for (const failure of message.failures as WorkerFailure[]) {
      failed.add(failure.index);
      this.entryFailed(digests.name(digestRows[failure.index]!), failure);
    }
    let bytes = 0;
    for (let index = 0; index < zipRows.length; index++) if (!failed.has(index)) bytes += this.table.sizes[zipRows[index]!]!;
    this.done(zipRows.length - failed.size, bytes);
  }

  /** Streams a large entry in chunks, a few read ahead of its worker; its slot, taken by `reserve`, is given back at the end. */
  private async runLarge(job: LargeJob): Promise<void> {
    try {
      await this.streamLarge(job);
    } finally {
      this.largeSlots.release(1);
    }
  }

  private async streamLarge(job: LargeJob): Promise<void> {
    const { item, limit } = job;
    const compressedSize = this.table.compressedSizes[item.zipIndex]!;
    const dataStart = await this.largeDataStart(item, limit);
    if (typeof dataStart === "string") return this.entryFailed(item.name, { index: 0, corrupt: true, message: dataStart });
    let unacknowledged = 0;
    let ackWaiter: (() => void) | undefined;
    /** The worker found the entry bad (e.g. it inflates past its size): the rest of its bytes are not read. */
    let entryFailed = false;
    let finish!: (message: ExtractMessage | undefined) => void;
    /** The worker's last word on the entry; undefined if the extraction failed first. */
    const finished = new Promise<ExtractMessage | undefined>((resolve) => (finish = resolve));
    const stopListening = this.onFailure(() => {
      ackWaiter?.();
      finish(undefined);
    });
    const answer = (message: ExtractMessage) => {
      if (message.type === "ack") {
        this.pool.answered(id, message.bytes as number);
        this.recycle(message);
        if (message.failed) entryFailed = true;
        unacknowledged--;
        ackWaiter?.();
        ackWaiter = undefined;
      } else if (message.type === "done") {
        this.pool.finish(id);
        finish(message);
      }
    };
    const { id, post } = this.pool.start("large", answer, this.options.onMainThread);
    try {
      const described = describeItems(this.table, this.options.digests, [{ item, at: 0, limit: 0 }]);
      post({ type: "open", ...described }, [described.fields.buffer as ArrayBuffer, described.sha256.buffer as ArrayBuffer]);
      const { chunkBytes } = this.options;
      for (let at = 0; at < compressedSize && !this.failure && !entryFailed; at += chunkBytes) {
        while (unacknowledged >= MAX_QUEUED_CHUNKS && !this.failure) await new Promise<void>((resolve) => (ackWaiter = resolve));
        if (this.failure || entryFailed) break;
        const length = Math.min(chunkBytes, compressedSize - at);
        unacknowledged++;
        const data = await this.read(dataStart + at, length);
        if (this.failure) return;
        post({ type: "chunk", data, length }, [data]);
      }
      if (this.failure) return;
      post({ type: "end" });
      const message = await finished;
      if (!message) return;
      if (message.failure) this.entryFailed(item.name, message.failure as WorkerFailure);
      else {
        if (message.data) this.returned.set(item.name, Buffer.from(message.data as ArrayBuffer));
        this.done(1, this.table.sizes[item.zipIndex]!);
      }
    } finally {
      stopListening();
    }
  }

  /** Where a large entry's data starts, read from its local header; or why that header cannot be trusted. */
  private async largeDataStart(item: ExtractItem, limit: number): Promise<number | string> {
    const offset = this.table.offsets[item.zipIndex]!;
    const headerGuess = Math.min(LOCAL_HEADER_SIZE + Buffer.byteLength(item.name) + 512, limit - offset);
    const header = await this.source.read(offset, headerGuess);
    if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== SIGNATURE.localHeader) return "its local header is missing or damaged";
    const dataStart = offset + LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
    if (dataStart + this.table.compressedSizes[item.zipIndex]! > limit) return "its data runs into the next entry";
    return dataStart;
  }
}
