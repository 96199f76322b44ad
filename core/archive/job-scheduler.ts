import { CHUNK_SIZE, MIN_SAVING, SAMPLE_SIZE, WHOLE_FILE_LIMIT } from "./compression-policy.js";
import type { PendingEntries, PendingFile } from "./pending-entries.js";
import { BatchJob, LargeFileJob } from "./worker-jobs.js";
import { WorkerPool } from "./worker-pool.js";

/** Small files sent to a worker in one message: their output must fit one slot. */
const BATCH_FILES = 128;
const BATCH_BYTES = WHOLE_FILE_LIMIT;
/** Output slots per worker: the results that may wait to be written, and so the memory in flight. */
const SLOTS_PER_WORKER = 6;
/** Room for a chunk that deflate made slightly larger than its input. */
const SLOT_SIZE = CHUNK_SIZE + 64 * 1024;
/** Slots a large file cycles through: chunks it may produce ahead of the writer. */
const LARGE_FILE_SLOTS = 3;

export interface JobSchedulerOptions {
  level: number;
  workers: number;
  /** Called when a job fails or a worker dies; the archive cannot be completed then. */
  onFailure: (error: Error) => void;
}

/**
 * Decides which pending files go to which worker, and when: small files in
 * batches, large files as chunk streams, in archive order, as long as a worker
 * has free output slots. Results wait in their slots until written, so the
 * slots bound the memory in flight and are the slack that keeps workers busy
 * while the entry at the head is still being produced.
 */
export class JobScheduler {
  private readonly pool: WorkerPool;
  /** Position of the next pending entry that may need a worker job. */
  private dispatchPosition = 0;
  private readonly activeJobs = new Set<BatchJob | LargeFileJob>();
  private pumpScheduled = false;
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
      workerData: { minSaving: MIN_SAVING, sampleSize: SAMPLE_SIZE },
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

  /** Starts the job that carries `file` now, since the writer is waiting for it. */
  requireJob(file: PendingFile): void {
    if (file.batch || file.large) return;
    this.pump();
    if (!file.batch && !file.large) throw new Error(`Internal error: no worker job was started for ${file.name}.`);
  }

  /** After the job's last bytes were copied to the output: its slots go back to its worker. */
  jobDone(job: BatchJob | LargeFileJob): void {
    this.activeJobs.delete(job);
    if (job.ticket) this.pool.release(job.ticket);
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

  /** Starts worker jobs in archive order while a worker has free output slots. */
  private pump(): void {
    const pending = this.pending;
    // The writer may already have written (and released) entries that needed no worker.
    if (this.dispatchPosition < pending.head) this.dispatchPosition = pending.head;
    while (!this.stopped && this.dispatchPosition < pending.end) {
      const entry = pending.at(this.dispatchPosition);
      if (entry.kind !== "file") {
        this.dispatchPosition++;
        continue;
      }
      if (!this.pool.canSubmit(entry.declared > WHOLE_FILE_LIMIT ? LARGE_FILE_SLOTS : 1)) return;
      if (entry.declared > WHOLE_FILE_LIMIT) {
        if (!this.startLargeFile(entry)) return;
        this.dispatchPosition++;
        continue;
      }
      // Entries that need no worker (directories, links) do not split a batch.
      const files: PendingFile[] = [];
      let end = this.dispatchPosition;
      let bytes = 0;
      while (end < pending.end && files.length < BATCH_FILES) {
        const next = pending.at(end);
        if (next.kind === "file") {
          if (next.declared > WHOLE_FILE_LIMIT || (bytes > 0 && bytes + next.declared > BATCH_BYTES)) break;
          files.push(next);
          bytes += next.declared;
        }
        end++;
      }
      // A batch cut short only by the end of what was added so far may still grow; while
      // workers are busy and the writer is not waiting for it, let more files join.
      const mayGrow = end === pending.end && !this.allAdded;
      if (mayGrow && this.activeJobs.size > 0 && pending.head < this.dispatchPosition) return;
      if (!this.startBatch(files)) return;
      this.dispatchPosition = end;
    }
  }

  private startBatch(files: PendingFile[]): boolean {
    const job = new BatchJob(files.length);
    // One string each: far cheaper to pass between threads than an object per file.
    const request = { type: "batch" as const, level: this.options.level, paths: files.map((f) => f.path).join("\0"), store: files.map((f) => (f.store ? "1" : "0")).join("") };
    const ticket = this.pool.submit(request, 1, (message) => {
      job.receive(message, (m) => this.pool.bytes(ticket!, m));
      if (message.type === "failed") this.options.onFailure(new Error(`Archiving failed while reading files: ${String(message.message)}`));
    });
    if (!ticket) return false;
    job.ticket = ticket;
    files.forEach((file, index) => {
      file.batch = job;
      file.batchIndex = index;
    });
    this.activeJobs.add(job);
    return true;
  }

  private startLargeFile(file: PendingFile): boolean {
    const job = new LargeFileJob(this.pool);
    const request = { type: "large" as const, level: this.options.level, path: file.path, store: file.store, chunkSize: CHUNK_SIZE };
    const ticket = this.pool.submit(request, LARGE_FILE_SLOTS, (message) => {
      job.receive(message);
      if (message.type === "failed") this.options.onFailure(new Error(`Archiving failed while reading ${file.name}: ${String(message.message)}`));
    });
    if (!ticket) return false;
    job.ticket = ticket;
    file.large = job;
    this.activeJobs.add(job);
    return true;
  }
}
