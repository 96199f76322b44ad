import os from "node:os";
import { Worker } from "node:worker_threads";
import { EXTRACT_WORKER_SOURCE } from "./extract-worker-source.js";

/** What a worker sends about one job (see the worker source for the protocol). */
export interface ExtractMessage {
  type: "batch" | "ack" | "done" | "fatal";
  id: number;
  [field: string]: unknown;
}

interface PooledWorker {
  worker: Worker;
  /** Stored bytes sent to this worker and not yet answered for. */
  outstandingBytes: number;
  largeJobs: number;
}

/**
 * Worker threads that inflate, check and write entries. Each job is pinned to
 * the worker it was sent to; batches go to the worker with the least work
 * queued, large entries to the one with the fewest large entries.
 */
export class ExtractPool {
  private readonly workers: PooledWorker[] = [];
  private readonly handlers = new Map<number, { handle: (message: ExtractMessage) => void; owner: PooledWorker; large: boolean }>();
  private nextId = 1;
  private closed = false;

  /** Told once if a worker dies; the pool is unusable afterwards. */
  onFatal: (error: Error) => void = () => undefined;

  constructor(private readonly size: number = Math.max(1, Math.min(os.availableParallelism(), 4))) {}

  /** Starts every worker now, so they boot while the caller does other work. */
  warm(): this {
    while (this.workers.length < this.size) this.spawn();
    return this;
  }

  /** Starts a job on a worker; `handle` receives every message about it until `finish`. */
  start(kind: "batch" | "large", handle: (message: ExtractMessage) => void): { id: number; post: (message: object, transfer?: ArrayBuffer[]) => void } {
    if (this.closed) throw new Error("The restore worker pool is closed.");
    const owner = this.pick(kind);
    const id = this.nextId++;
    this.handlers.set(id, { handle, owner, large: kind === "large" });
    if (kind === "large") owner.largeJobs++;
    return {
      id,
      post: (message, transfer) => {
        const bytes = (message as { length?: number }).length ?? 0;
        owner.outstandingBytes += bytes;
        owner.worker.postMessage({ ...message, id }, transfer ?? []);
      },
    };
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
    this.handlers.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private pick(kind: "batch" | "large"): PooledWorker {
    if (this.workers.length < this.size) {
      const idle = this.workers.find((w) => w.outstandingBytes === 0 && w.largeJobs === 0);
      if (!idle) return this.spawn();
    }
    let best = this.workers[0]!;
    for (const candidate of this.workers) {
      const better =
        kind === "large"
          ? candidate.largeJobs < best.largeJobs || (candidate.largeJobs === best.largeJobs && candidate.outstandingBytes < best.outstandingBytes)
          : candidate.outstandingBytes < best.outstandingBytes;
      if (better) best = candidate;
    }
    return best;
  }

  private spawn(): PooledWorker {
    // A small young generation makes the worker collect the buffers it inflates often, which keeps its memory flat.
    const worker = new Worker(EXTRACT_WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    const pooled: PooledWorker = { worker, outstandingBytes: 0, largeJobs: 0 };
    worker.on("message", (message: ExtractMessage) => {
      if (message.type === "fatal") {
        this.die(new Error(`A restore worker failed: ${String(message.message)}`));
        return;
      }
      this.handlers.get(message.id)?.handle(message);
    });
    worker.on("error", (error) => this.die(error));
    worker.on("exit", (code) => {
      if (!this.closed) this.die(new Error(`A restore worker stopped unexpectedly (exit code ${code}).`));
    });
    this.workers.push(pooled);
    return pooled;
  }

  private die(error: Error): void {
    if (this.closed) return;
    this.onFatal(error);
  }
}
