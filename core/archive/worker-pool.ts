import { Worker } from "node:worker_threads";
import { DEFLATE_WORKER_SOURCE } from "./deflate-worker-source.js";

/** A message from a worker about one job; `type` tells which (see the worker source). */
export interface WorkerMessage {
  type: "batch" | "chunk" | "largeEnd" | "failed";
  id: number;
  [field: string]: unknown;
}

type JobHandler = (message: WorkerMessage) => void;

interface PoolWorker {
  worker: Worker;
  /** Jobs sent and not yet answered with a final message. */
  outstanding: number;
  /** Of those, large-file jobs, which hold the worker much longer. */
  outstandingLarge: number;
}

const FINAL_TYPES = new Set(["batch", "largeEnd", "failed"]);

/**
 * Worker threads that read, checksum and deflate files. Workers start on first
 * use and are referenced only while they have jobs, so an idle pool never keeps
 * the process alive; `close()` terminates them.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly handlers = new Map<number, { handler: JobHandler; owner: PoolWorker; large: boolean }>();
  private nextId = 1;
  private closed = false;
  private closing?: Promise<void>;

  constructor(
    private readonly size: number,
    private readonly workerData: Record<string, unknown>,
    /** Called once if a worker dies; the pool is unusable afterwards. */
    private readonly onFatal: (error: Error) => void,
  ) {}

  /** Sends a job to the least busy worker; `handler` gets every message about it. */
  submit(job: Record<string, unknown> & { type: "batch" | "large" }, handler: JobHandler): number {
    if (this.closed) throw new Error("The archive worker pool is closed.");
    const id = this.nextId++;
    const large = job.type === "large";
    const owner = this.pickWorker();
    this.handlers.set(id, { handler, owner, large });
    owner.outstanding++;
    if (large) owner.outstandingLarge++;
    if (owner.outstanding === 1) owner.worker.ref();
    owner.worker.postMessage({ ...job, id });
    return id;
  }

  /** Lets a large-file job send one more chunk. */
  credit(id: number): void {
    const entry = this.handlers.get(id);
    if (entry) entry.owner.worker.postMessage({ type: "credit", id });
  }

  close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.closing ??= Promise.all(this.workers.map((w) => w.worker.terminate())).then(() => undefined);
    return this.closing;
  }

  private pickWorker(): PoolWorker {
    let best: PoolWorker | undefined;
    let bestLoad = Infinity;
    for (const candidate of this.workers) {
      const load = candidate.outstanding + 3 * candidate.outstandingLarge;
      if (load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    if (best && (bestLoad === 0 || this.workers.length >= this.size)) return best;
    return this.spawn();
  }

  private spawn(): PoolWorker {
    const worker = new Worker(DEFLATE_WORKER_SOURCE, { eval: true, workerData: this.workerData });
    const pooled: PoolWorker = { worker, outstanding: 0, outstandingLarge: 0 };
    worker.unref();
    worker.on("message", (message: WorkerMessage) => this.route(message));
    worker.on("error", (error) => this.die(error));
    worker.on("exit", (code) => {
      if (!this.closed) this.die(new Error(`An archive worker stopped unexpectedly (exit code ${code}).`));
    });
    this.workers.push(pooled);
    return pooled;
  }

  private route(message: WorkerMessage): void {
    const entry = this.handlers.get(message.id);
    if (!entry) return;
    if (FINAL_TYPES.has(message.type)) {
      this.handlers.delete(message.id);
      entry.owner.outstanding--;
      if (entry.large) entry.owner.outstandingLarge--;
      if (entry.owner.outstanding === 0) entry.owner.worker.unref();
    }
    entry.handler(message);
  }

  private die(error: Error): void {
    if (this.closed) return;
    this.onFatal(error);
    void this.close();
  }
}
