import os from "node:os";
import type { Worker } from "node:worker_threads";
import { deflateEngine, type DeflateEngine } from "./deflate-engine.js";
import type { ExtractReply, ExtractRequest, ExtractWorkerData } from "./extract-protocol.js";
import { ExtractWork } from "./extract-work.js";
import { EXTRACT_WORKER_SOURCE } from "./extract-worker-source.js";
import { enableGarbageCollection, workerOnline } from "./garbage-collection.js";
import { workerThreads } from "./worker-threads.js";

/** What a worker sends about one job (see the worker source for the protocol). */
export interface ExtractMessage {
  type: "batch" | "ack" | "done" | "fatal";
  id: number;
  [field: string]: unknown;
}

/** Where a job runs: a worker thread, or the main thread for work too small to start one. */
interface JobRunner {
  post(message: object, transfer: ArrayBuffer[]): void;
  /** Stored bytes sent to this runner and not yet answered for. */
  outstandingBytes: number;
  largeJobs: number;
  batches: number;
}

/** Archives of this many entries or more share the main thread (see ExtractPool): their tables are what memory is short of. */
export const SHARED_MAIN_THREAD_ENTRIES = 400_000;

/** Batches a worker holds (the one it runs and two queued) before the main thread takes batches too. */
const MAIN_THREAD_AFTER_BATCHES = 3;

/**
 * Worker threads that inflate, check and write entries, started when a job
 * first needs one (never for work done on the main thread). Each job is
 * pinned to the worker it was sent to: the one with the fewest large entries,
 * then the least work queued.
 *
 * A pool told to `shareMainThread` (with a `size` of 2 or more) makes the
 * main thread the last of the `size` runners: `size - 1` workers are
 * started, and a batch goes to the main thread when every worker has two
 * queued. A worker thread costs 15-20 MB (its engine, heap and allocator
 * arena): a million-file restore on two cores peaked 12-15 MB lower this way,
 * in about the same time. On smaller archives the time is what matters: a
 * 42k-file restore with one worker and the main thread took 1.06 × `unzip`'s
 * time instead of 0.6-0.75 ×, so they keep every worker.
 */
export class ExtractPool {
  /** Worker threads started by every pool of this process: what a test of "no thread for tiny work" reads. */
  static threadsStarted = 0;
  /** Of those, the ones whose engine is up (after which V8's flags are set again: see workerOnline). */
  static threadsOnline = 0;

  private readonly workers: JobRunner[] = [];
  private readonly threads: Worker[] = [];
  private mainThread: JobRunner | undefined;
  private readonly handlers = new Map<number, { handle: (message: ExtractMessage) => void; owner: JobRunner; large: boolean }>();
  private nextId = 1;
  private closed = false;
  private jobsAtOnce = 0;
  private batchesOnMainThread = 0;
  private sharing = false;

  /** Told once if a worker dies; the pool is unusable afterwards. */
  onFatal: (error: Error) => void = () => undefined;

  /** `engine` says whether libdeflate or zlib inflates the batches (APP_BACKUP_DEFLATE's choice by default). */
  constructor(
    readonly size: number = Math.max(1, Math.min(os.availableParallelism(), 4)),
    private readonly engine: DeflateEngine = deflateEngine(),
  ) {}

  /** The main thread takes the last runner's share (see above); set before the first job. */
  shareMainThread(): void {
    this.sharing = true;
  }

  /**
   * Kept for callers that warmed the pool up front: workers now start when the
   * first job needs one, so that a restore small enough for the main thread
   * starts none.
   */
  warm(): this {
    return this;
  }

  /**
   * Starts a job on a worker, or on the main thread when `onMainThread`;
   * `handle` receives every message about it until `finish`.
   */
  start(
    kind: "batch" | "large",
    handle: (message: ExtractMessage) => void,
    onMainThread = false,
  ): { id: number; post: (message: object, transfer?: ArrayBuffer[]) => void } {
    if (this.closed) throw new Error("The restore worker pool is closed.");
    const owner = onMainThread ? (this.mainThread ??= this.startMainThread()) : this.pick(kind);
    const id = this.nextId++;
    this.handlers.set(id, { handle, owner, large: kind === "large" });
    this.jobsAtOnce = Math.max(this.jobsAtOnce, this.handlers.size);
    if (kind === "large") owner.largeJobs++;
    else owner.batches++;
    if (owner === this.mainThread && !onMainThread) this.batchesOnMainThread++;
    return {
      id,
      post: (message, transfer) => {
        const bytes = (message as { length?: number }).length ?? 0;
        owner.outstandingBytes += bytes;
        owner.post({ ...message, id }, transfer ?? []);
      },
    };
  }

  /** The most jobs this pool has had started and not finished at once: what a test of bounded bookkeeping reads. */
  get mostJobsAtOnce(): number {
    return this.jobsAtOnce;
  }

  /** Batches the main thread took from busy workers (not counting work sent there on purpose): what a test of the shared main thread reads. */
  get mainThreadBatches(): number {
    return this.batchesOnMainThread;
  }

  /** Books answered bytes off the worker that owns `id`. */
  answered(id: number, bytes: number): void {
    const entry = this.handlers.get(id);
    if (entry) entry.owner.outstandingBytes -= bytes;
  }

  /** The job is over: its handler is dropped. */
  finish(id: number): void {
    const entry = this.handlers.get(id);
    if (!entry) return;
    if (entry.large) entry.owner.largeJobs--;
    else entry.owner.batches--;
    this.handlers.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  private pick(kind: "batch" | "large"): JobRunner {
    const sharesMainThread = this.sharing && this.size > 1;
    if (this.workers.length < (sharesMainThread ? this.size - 1 : this.size)) {
      const idle = this.workers.find((w) => w.outstandingBytes === 0 && w.largeJobs === 0);
      if (!idle) return this.spawn();
    }
    if (kind === "batch" && sharesMainThread) {
      let least: JobRunner | undefined;
      for (const candidate of this.workers) {
        if (candidate.largeJobs === 0 && candidate.batches < (least?.batches ?? MAIN_THREAD_AFTER_BATCHES)) least = candidate;
      }
      // Large entries stream through workers only: the main thread reads them.
      return least ?? (this.mainThread ??= this.startMainThread());
    }
    let best = this.workers[0]!;
    for (const candidate of this.workers) {
      // A worker busy with a large entry answers batches late: batches go where no large entry is, if anywhere.
      const better =
        candidate.largeJobs < best.largeJobs || (candidate.largeJobs === best.largeJobs && candidate.outstandingBytes < best.outstandingBytes);
      if (better) best = candidate;
    }
    return best;
  }

  private receive(message: ExtractMessage): void {
    if (message.type === "fatal") {
      this.die(new Error(`A restore worker failed: ${String(message.message)}`));
      return;
    }
    this.handlers.get(message.id)?.handle(message);
  }

  /** The same work as a worker's, done on this thread between the caller's own steps. */
  private startMainThread(): JobRunner {
    const work = new ExtractWork((message: ExtractReply) => this.receive(message as ExtractMessage), this.engine.libdeflate);
    // Taken up after the caller's current step, as a thread would: a reply never arrives inside `post`.
    return { outstandingBytes: 0, largeJobs: 0, batches: 0, post: (message) => queueMicrotask(() => work.receive(message as ExtractRequest)) };
  }

  private spawn(): JobRunner {
    // Before the thread starts: it can then collect the buffers it is done with (see extract-worker.ts).
    enableGarbageCollection();
    // A small young generation makes the worker collect the buffers it inflates often, which keeps its memory flat.
    const workerData: ExtractWorkerData = this.engine.libdeflateFile ? { libdeflateFile: this.engine.libdeflateFile } : {};
    const worker = new (workerThreads().Worker)(EXTRACT_WORKER_SOURCE, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    ExtractPool.threadsStarted++;
    const runner: JobRunner = { outstandingBytes: 0, largeJobs: 0, batches: 0, post: (message, transfer) => worker.postMessage(message, transfer) };
    worker.on("message", (message: ExtractMessage) => this.receive(message));
    worker.once("online", () => {
      ExtractPool.threadsOnline++;
      workerOnline();
    });
    worker.on("error", (error) => this.die(error));
    worker.on("exit", (code) => {
      if (!this.closed) this.die(new Error(`A restore worker stopped unexpectedly (exit code ${code}).`));
    });
    this.threads.push(worker);
    this.workers.push(runner);
    return runner;
  }

  private die(error: Error): void {
    if (this.closed) return;
    this.onFatal(error);
  }
}
