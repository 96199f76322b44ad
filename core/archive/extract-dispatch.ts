import { BufferRecycler, ByteBudget } from "./extract-flow.js";
import type { BatchJob, ExtractJob, LargeJob } from "./extract-jobs.js";
import type { ExtractMessage, ExtractPool } from "./extract-pool.js";
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
 * One extraction's jobs handed to worker threads: reads in budget, every
 * answer booked, and the first failure stopping everything (reads stop,
 * waiting jobs give up, the failure is thrown at the end).
 */
export class ExtractDispatch {
  /** Content handed back, by entry name. */
  readonly returned = new Map<string, Buffer>();
  private readonly progress: ExtractProgress = { files: 0, bytes: 0 };
  private readonly table: ZipIndex["table"];
  private readonly budget: ByteBudget;
  /** Large entries streamed at once: one per worker, so the others' chunks stay bounded. */
  private readonly largeSlots: ByteBudget;
  private readonly reads = new ByteBudget(MAX_CONCURRENT_READS);
  private readonly buffers: BufferRecycler;
  private failure: Error | undefined;
  private rejectFailed!: (error: Error) => void;
  /** Rejects with the first failure: what every job waiting on a worker gives up on. */
  private readonly failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));

  constructor(
    private readonly source: ReusableBufferSource,
    zip: ZipIndex,
    private readonly pool: ExtractPool,
    private readonly options: ExtractOptions & { chunkBytes: number; maxInFlightBytes: number; onMainThread: boolean; largeJobs: number },
  ) {
    this.table = zip.table;
    this.failed.catch(() => undefined);
    this.budget = new ByteBudget(options.maxInFlightBytes);
    this.largeSlots = new ByteBudget(options.largeJobs);
    this.buffers = new BufferRecycler(options.chunkBytes, options.maxInFlightBytes + options.largeJobs * MAX_QUEUED_CHUNKS * options.chunkBytes);
  }

  /** The first failure, if any; it stops everything. */
  get firstFailure(): Error | undefined {
    return this.failure;
  }

  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.budget.abort(error);
    this.largeSlots.abort(error);
    this.rejectFailed(error);
  }

  /** A bad entry: listed when the caller collects them, else the end of the extraction. */
  entryFailed(item: ExtractItem, failure: WorkerFailure): void {
    const entryFailure = new EntryFailure(item.name, failure.corrupt, failure.message, failure.code);
    if (failure.corrupt && this.options.onCorrupt) this.options.onCorrupt(entryFailure);
    else this.fail(entryFailure);
  }

  /** Waits until a batch's read fits in the budget, or a large entry's slot is free; rejects once the extraction has failed. */
  reserve(job: ExtractJob): Promise<void> {
    return job.kind === "batch" ? this.budget.reserve(job.end - job.start) : this.largeSlots.reserve(1);
  }

  /** Runs a job that `reserve` made room for; a failure is recorded, not thrown. */
  run(job: ExtractJob): Promise<void> {
    return (job.kind === "batch" ? this.runBatch(job) : this.runLarge(job)).catch((error: Error) => this.fail(error));
  }

  private done(items: readonly ExtractItem[]): void {
    for (const item of items) {
      this.progress.files++;
      this.progress.bytes += this.table.sizes[item.zipIndex]!;
    }
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
  }

  /** The batch's span is reserved in the budget by `reserve`. */
  private async runBatch(job: BatchJob): Promise<void> {
    const span = job.end - job.start;
    const data = await this.read(job.start, span);
    if (this.failure) return;
    const { items } = job;
    const described = describeItems(
      this.table,
      this.options.digests,
      items.map((item, index) => ({ item, at: this.table.offsets[item.zipIndex]! - job.start, limit: job.limits[index]! - job.start })),
    );
    await new Promise<void>((resolve) => {
      const answer = (message: ExtractMessage) => {
        this.pool.answered(id, span);
        this.pool.finish(id);
        this.budget.release(span);
        this.recycle(message);
        this.batchAnswered(items, message);
        resolve();
      };
      const { id, post } = this.pool.start("batch", answer, this.options.onMainThread);
      post({ type: "batch", data, length: span, ...described }, [data, described.fields.buffer as ArrayBuffer, described.sha256]);
      this.failed.catch(() => resolve());
    });
  }

  private batchAnswered(items: readonly ExtractItem[], message: ExtractMessage): void {
    const failures = message.failures as WorkerFailure[];
    for (const { index, data: content } of message.returned as Array<{ index: number; data: ArrayBuffer }>) {
      this.returned.set(items[index]!.name, Buffer.from(content));
    }
    if (failures.length === 0) return this.done(items);
    const failedIndexes = new Set(failures.map((f) => f.index));
    for (const failure of failures) this.entryFailed(items[failure.index]!, failure);
    this.done(items.filter((_, index) => !failedIndexes.has(index)));
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
    if (typeof dataStart === "string") return this.entryFailed(item, { index: 0, corrupt: true, message: dataStart });
    let unacknowledged = 0;
    let ackWaiter: (() => void) | undefined;
    /** The worker found the entry bad (e.g. it inflates past its size): the rest of its bytes are not read. */
    let entryFailed = false;
    let finish!: (message: ExtractMessage) => void;
    const finished = new Promise<ExtractMessage>((resolve) => (finish = resolve));
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
    const described = describeItems(this.table, this.options.digests, [{ item, at: 0, limit: 0 }]);
    post({ type: "open", ...described }, [described.fields.buffer as ArrayBuffer, described.sha256]);
    const { chunkBytes } = this.options;
    for (let at = 0; at < compressedSize && !this.failure && !entryFailed; at += chunkBytes) {
      while (unacknowledged >= MAX_QUEUED_CHUNKS && !this.failure) await Promise.race([new Promise<void>((resolve) => (ackWaiter = resolve)), this.failed.catch(() => undefined)]);
      if (this.failure || entryFailed) break;
      const length = Math.min(chunkBytes, compressedSize - at);
      unacknowledged++;
      const data = await this.read(dataStart + at, length);
      if (this.failure) return;
      post({ type: "chunk", data, length }, [data]);
    }
    if (this.failure) return;
    post({ type: "end" });
    const message = await Promise.race([finished, this.failed.catch(() => undefined)]);
    if (!message) return;
    if (message.failure) this.entryFailed(item, message.failure as WorkerFailure);
    else {
      if (message.data) this.returned.set(item.name, Buffer.from(message.data as ArrayBuffer));
      this.done([item]);
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
