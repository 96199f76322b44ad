import { CHUNK_SIZE, isLargeFile, MIN_SAVING, WHOLE_FILE_LIMIT } from "./compression-policy.js";
import type { PendingBatchable, PendingBytes, PendingEntries, PendingEntry } from "./pending-entries.js";
import type { DeflateEngine } from "./deflate-engine.js";
import { deflateFileBatch } from "./file-batch.js";
import { BatchJob } from "./worker-jobs.js";
import { WorkerPool, type JobTicket, type WorkerMessage } from "./worker-pool.js";

/**
 * Small files sent to a worker in one message: their output must fit one slot.
 * Enough that a batch of typical 1-4 KB files about fills it, so a tree of a
 * million files costs thousands of messages, not tens of thousands.
 */
const BATCH_FILES = 512;
const BATCH_BYTES = WHOLE_FILE_LIMIT;
/** Output slots per worker: the results that may wait to be written, and so the memory in flight. */
const SLOTS_PER_WORKER = 6;
/** Room for a batch or block that deflate made slightly larger than its input. */
const SLOT_SIZE = Math.max(BATCH_BYTES, CHUNK_SIZE) + 64 * 1024;
/**
 * Work below both of these is deflated on the main thread: starting a worker
 * (tens of milliseconds) would cost more than the work. Past either, the
 * workers start, as a whole tree may follow.
 */
const INLINE_WORK_FILES = 256;
const INLINE_WORK_BYTES = 4 * 1024 * 1024;

export interface JobSchedulerOptions {
  level: number;
  workers: number;
  /** What deflates the batches' files, here and on the workers. */
  engine: DeflateEngine;
  /** Called when a job fails or a worker dies; the archive cannot be completed then. */
  onFailure: (error: Error) => void;
}

/**
 * Decides which pending files go to which worker, and when: small files in
 * batches, in archive order, as long as a worker
 * has free output slots. Results wait in their slots until written, so the
 * slots bound the memory in flight and are the slack that keeps workers busy
 * while the entry at the head is still being produced.
 */
export class JobScheduler {
  private readonly pool: WorkerPool;
  /** Position of the next pending entry that may need a worker job. */
  private dispatchPosition = 0;
  private readonly activeJobs = new Set<BatchJob>();
  private pumpScheduled = false;
  /** Files (and their bytes) deflated on this thread because no worker was worth starting. */
  private inlineFiles = 0;
  private inlineBytes = 0;
  private allAdded = false;
  private stopped = false;

  constructor(
    private readonly pending: PendingEntries,
    private readonly options: JobSchedulerOptions,
  ) {
    this.pool = new WorkerPool({
      size: options.workers,
      slotsPerWorker: SLOTS_PER_WORKER,
      slotSize: SLOT_SIZE,
      workerData: { minSaving: MIN_SAVING, ...(options.engine.libdeflateFile ? { libdeflateFile: options.engine.libdeflateFile } : {}) },
      onFatal: options.onFailure,
    });
  }

  entryAdded(): void {
    // Start full batches right away, so workers run while the caller is still walking the tree.
    if (this.pending.end - this.dispatchPosition >= 2 * BATCH_FILES) this.pump();
    else this.schedulePump();
  }

  /** No more entries come: batches stop waiting for files to join them. */
  lastEntryAdded(): void {
    this.allAdded = true;
    this.pump();
  }

  /**
   * Starts the job that carries `entry` now, since the writer is waiting for it (a large file needs none:
   * the writer reads it). Bytes the caller handed over may stay unbatched: the writer deflates those itself.
   */
  requireJob(entry: PendingBatchable): void {
    if (entry.batch || !isBatchable(entry)) return;
    this.pump(true);
    if (!entry.batch && entry.kind === "file") throw new Error(`Internal error: no worker job was started for ${entry.name}.`);
  }

  /** After the job's last bytes were copied to the output: its slots go back to its worker. */
  jobDone(job: BatchJob): void {
    this.activeJobs.delete(job);
    if (job.ticket) this.pool.release(job.ticket);
    this.pump();
  }

  /**
   * Starts a job no pending file waits for (a block of the stream or large file being written) on a worker,
   * in a free output slot if one has it; undefined once the archive stopped. The slot comes back with `slotDone`.
   */
  submitBlock(request: Record<string, unknown> & { type: "block" }, handler: (message: WorkerMessage) => void): JobTicket | undefined {
    if (this.stopped) return undefined;
    // Slots held by finished batches wait for the writer, which waits for this block: with none free the block
    // goes to a worker without one and comes back in a buffer of its own. The workers, otherwise idle then,
    // deflate it, rather than libuv's threads competing with them for the cores.
    return this.pool.submit(request, 1, handler) ?? this.pool.submit(request, 0, handler);
  }

  /** The bytes a block job's answer left in its slot; valid until `slotDone`. */
  slotBytes(ticket: JobTicket, message: WorkerMessage): Buffer {
    return this.pool.bytes(ticket, message);
  }

  slotDone(ticket: JobTicket): void {
    this.pool.release(ticket);
    this.pump();
  }

  /** Fails every job in flight; no job starts after this. */
  stop(error: Error): void {
    this.stopped = true;
    for (const job of this.activeJobs) job.abort(error);
    this.activeJobs.clear();
  }

  /** Terminates the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the caller's synchronous run of adds, so batches fill up.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Starts worker jobs in archive order while a worker has free output slots.
   * Until a worker has started, small work waits for more files to join it or
   * for the writer to need it (`needed`), and is then deflated here if it is
   * still small.
   */
  private pump(needed = false): void {
    const pending = this.pending;
    // The writer may already have written (and released) entries that needed no worker.
    if (this.dispatchPosition < pending.head) this.dispatchPosition = pending.head;
    while (!this.stopped && this.dispatchPosition < pending.end) {
      const entry = pending.at(this.dispatchPosition);
      // Large files are read by the writer, their blocks deflated by whichever worker has room.
      if (!isBatchable(entry)) {
        this.dispatchPosition++;
        continue;
      }
      if (!this.pool.started && this.waitingWorkIsSmall()) {
        if (!needed && !this.allAdded) return;
        this.dispatchPosition = this.runInline(this.dispatchPosition);
        continue;
      }
      if (!this.pool.canSubmit(1)) return;
      const { files, end } = this.batchFrom(this.dispatchPosition);
      // A batch cut short only by the end of what was added so far may still grow; while
      // workers are busy and the writer is not waiting for it, let more files join.
      const mayGrow = end === pending.end && !this.allAdded;
      if (mayGrow && this.activeJobs.size > 0 && pending.head < this.dispatchPosition) return;
      if (!this.startBatch(files)) return;
      this.dispatchPosition = end;
    }
  }

  /**
   * The small files from `position` on that go into one batch, and the position after them. A batch holds
   * files on disk or bytes handed over, not both: the worker reads the one by path, the other from its input slot.
   */
  private batchFrom(position: number): { files: PendingBatchable[]; bytes: number; end: number } {
    const pending = this.pending;
    // Entries that need no worker (directories, links) do not split a batch.
    const files: PendingBatchable[] = [];
    let end = position;
    let bytes = 0;
    while (end < pending.end && files.length < BATCH_FILES) {
      const next = pending.at(end);
      if (next.kind === "file" || next.kind === "buffer") {
        if (!isBatchable(next) || (files.length > 0 && next.kind !== files[0]!.kind)) break;
        if (bytes > 0 && bytes + next.declared > BATCH_BYTES) break;
        files.push(next);
        bytes += next.declared;
      }
      end++;
    }
    return { files, bytes, end };
  }

  /**
   * Whether the files not yet given to a job, with those already deflated here, are few and small enough
   * to deflate here. Counting what was done here matters when the caller adds files as it fetches them
   * (a remote home): what waits is then never much, however much the whole is.
   */
  private waitingWorkIsSmall(): boolean {
    let files = this.inlineFiles;
    let bytes = this.inlineBytes;
    for (let position = this.dispatchPosition; position < this.pending.end; position++) {
      const entry = this.pending.at(position);
      // A large file's blocks go to the workers; large bytes handed over are deflated by the writer.
      if (entry.kind === "file" && isLargeFile(entry.declared)) return false;
      if (!isBatchable(entry)) continue;
      files++;
      bytes += entry.declared;
      if (files > INLINE_WORK_FILES || bytes > INLINE_WORK_BYTES) return false;
    }
    return true;
  }

  /** Reads and deflates one batch on this thread, as a worker would; returns the position after it. */
  private runInline(position: number): number {
    const { files, bytes, end } = this.batchFrom(position);
    this.inlineFiles += files.length;
    this.inlineBytes += bytes;
    // Bytes handed over are deflated by the writer as it writes them.
    if (files.length === 0 || files[0]!.kind === "buffer") return end;
    const job = new BatchJob(files.length);
    const target = Buffer.allocUnsafe(Math.max(bytes, 1024));
    const request = { id: 0, level: this.options.level, ...batchRequestOf(files) };
    const { message } = deflateFileBatch(request, target, MIN_SAVING, undefined, this.options.engine.libdeflate);
    job.receive({ ...message, type: "batch" }, (answer) => target.subarray(0, answer.length));
    files.forEach((file, index) => {
      file.batch = job;
      file.batchIndex = index;
    });
    return end;
  }

  private startBatch(files: PendingBatchable[]): boolean {
    const job = new BatchJob(files.length);
    const inputs = files[0]!.kind === "buffer";
    const request = { type: "batch" as const, level: this.options.level, ...batchRequestOf(files), ...(inputs ? { inputs: true } : {}) };
    // Bytes handed over travel in a second slot: output first, input second.
    const ticket = this.pool.submit(
      request,
      inputs ? 2 : 1,
      (message) => {
        job.receive(message, (m) => this.pool.bytes(ticket!, m));
        if (message.type === "failed") this.options.onFailure(new Error(`Archiving failed while reading files: ${String(message.message)}`));
      },
      inputs ? (slots) => copyInputs(files as PendingBytes[], slots[1]!) : undefined,
    );
    if (!ticket) return false;
    job.ticket = ticket;
    files.forEach((file, index) => {
      file.batch = job;
      file.batchIndex = index;
    });
    this.activeJobs.add(job);
    return true;
  }
}

/** Whether a worker deflates the entry in a batch: a small file, on disk or handed over as bytes. */
function isBatchable(entry: PendingEntry): entry is PendingBatchable {
  return (entry.kind === "file" || entry.kind === "buffer") && !isLargeFile(entry.declared);
}

/** One string each for paths and store flags, one array of sizes: far cheaper to pass between threads than an object per file. */
function batchRequestOf(files: PendingBatchable[]): { paths: string; store: string; sizes: Float64Array } {
  const sizes = new Float64Array(files.length);
  let paths = "";
  let store = "";
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (file.kind === "file") paths += i === 0 ? file.path : "\0" + file.path;
    store += file.store ? "1" : "0";
    sizes[i] = file.declared;
  }
  return { paths, store, sizes };
}

const NO_BYTES = Buffer.alloc(0);

/** Puts the batch's bytes back to back into its input slot and lets go of the caller's buffers. */
function copyInputs(files: PendingBytes[], slot: Buffer): void {
  let at = 0;
  for (const file of files) {
    slot.set(file.data, at);
    at += file.data.length;
    file.data = NO_BYTES;
  }
}
