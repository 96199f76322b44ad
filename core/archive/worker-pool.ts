import type { Worker } from "node:worker_threads";
import { DEFLATE_WORKER_SOURCE } from "./deflate-worker-source.js";
import { enableGarbageCollection, workerOnline } from "./garbage-collection.js";
import { workerThreads } from "./worker-threads.js";

/** A message from a worker about one job; `type` tells which (see the worker source). */
export interface WorkerMessage {
  type: "batch" | "failed" | "block";
  id: number;
  /** Slot holding this message's bytes, if any; read them with `WorkerPool.bytes`. */
  slot?: number;
  length?: number;
  [field: string]: unknown;
}

type JobHandler = (message: WorkerMessage) => void;

/** A started job and the output slots it holds until the writer releases them. */
export interface JobTicket {
  readonly id: number;
  readonly worker: PoolWorker;
  readonly slots: number[];
}

interface PoolWorker {
  worker: Worker;
  /** The worker's output slots, shared memory it writes and the main thread reads. */
  slotMemory: SharedArrayBuffer;
  freeSlots: number[];
  /** Jobs sent and not yet answered. */
  outstanding: number;
}

export interface WorkerPoolOptions {
  size: number;
  slotsPerWorker: number;
  slotSize: number;
  workerData: Record<string, unknown>;
  /** Called once if a worker dies; the pool is unusable afterwards. */
  onFatal: (error: Error) => void;
}

/** Archive workers this process started: a small archive starts none. */
let workersStarted = 0;

export function archiveWorkersStarted(): number {
  return workersStarted;
}

/**
 * Worker threads that read, checksum and deflate files. Each worker writes its
 * results into a fixed set of shared-memory slots that the main thread copies
 * out and hands back: the memory in flight is bounded by construction and no
 * buffer is allocated per batch. Workers start on first use and are referenced
 * only while they have jobs, so an idle pool never keeps the process alive;
 * `close()` terminates them.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly handlers = new Map<number, { handler: JobHandler; owner: PoolWorker }>();
  private nextId = 1;
  private closed = false;
  private closing?: Promise<void>;

  constructor(private readonly options: WorkerPoolOptions) {}

  /**
   * Sends a job to the least busy worker with `slotCount` free slots, or returns
   * undefined when none has them (call again after releasing a ticket). A job
   * given no slot answers with a buffer of its own.
   */
  submit(
    job: Record<string, unknown> & { type: "batch" | "block" },
    slotCount: number,
    handler: JobHandler,
    /** Fills the job's slots before it is sent (input the worker reads from shared memory). */
    fill?: (slots: Buffer[]) => void,
  ): JobTicket | undefined {
    if (this.closed) throw new Error("The archive worker pool is closed.");
    const owner = this.pickWorker(slotCount);
    if (!owner) return undefined;
    const id = this.nextId++;
    const slots = owner.freeSlots.splice(owner.freeSlots.length - slotCount, slotCount);
    fill?.(slots.map((slot) => Buffer.from(owner.slotMemory, slot * this.options.slotSize, this.options.slotSize)));
    this.handlers.set(id, { handler, owner });
    owner.outstanding++;
    if (owner.outstanding === 1) owner.worker.ref();
    owner.worker.postMessage({ ...job, id, slots });
    return { id, worker: owner, slots };
  }

  /** Whether a worker was started: until then the pool costs nothing. */
  get started(): boolean {
    return this.workers.length > 0;
  }

  /** Whether `submit` with `slotCount` slots would start a job now. */
  canSubmit(slotCount: number): boolean {
    if (this.workers.length < this.options.size) return true;
    return this.workers.some((w) => w.freeSlots.length >= slotCount);
  }

  /** The bytes a message placed in its slot; valid until the ticket's slots are released. */
  bytes(ticket: JobTicket, message: WorkerMessage): Buffer {
    return Buffer.from(ticket.worker.slotMemory, message.slot! * this.options.slotSize, message.length!);
  }

  release(ticket: JobTicket): void {
    ticket.worker.freeSlots.push(...ticket.slots);
  }

  close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.closing ??= Promise.all(this.workers.map((w) => w.worker.terminate())).then(() => undefined);
    return this.closing;
  }

  private pickWorker(slotCount: number): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const candidate of this.workers) {
      if (candidate.freeSlots.length < slotCount) continue;
      if (!best || candidate.outstanding < best.outstanding) best = candidate;
    }
    if (best && best.outstanding === 0) return best;
    if (this.workers.length < this.options.size && slotCount <= this.options.slotsPerWorker) return this.spawn();
    return best;
  }

  private spawn(): PoolWorker {
    const { slotsPerWorker, slotSize } = this.options;
    const slotMemory = new SharedArrayBuffer(slotsPerWorker * slotSize);
    workersStarted++;
    // Before the thread starts, so it can collect too (a backup too small for workers never pays for it).
    enableGarbageCollection();
    const worker = new (workerThreads().Worker)(DEFLATE_WORKER_SOURCE, {
      eval: true,
      workerData: { ...this.options.workerData, slotMemory, slotSize },
      // Workers allocate little JS; a small young generation keeps their heaps small.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    const pooled: PoolWorker = { worker, slotMemory, freeSlots: Array.from({ length: slotsPerWorker }, (_, i) => i), outstanding: 0 };
    worker.unref();
    worker.once("online", workerOnline);
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
    // Every job is answered with one message.
    this.handlers.delete(message.id);
    entry.owner.outstanding--;
    if (entry.owner.outstanding === 0) entry.owner.worker.unref();
    entry.handler(message);
  }

  private die(error: Error): void {
    if (this.closed) return;
    this.options.onFatal(error);
    void this.close();
  }
}
