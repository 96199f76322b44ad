import type { JobTicket, WorkerMessage, WorkerPool } from "./worker-pool.js";

/** What a worker reports for one small file: its content facts, or why it could not be read. */
export type FileResult =
  | { size: number; crc32: number; method: number; length: number; sha256: Uint8Array; offset: number; reason?: undefined }
  | { reason: string };

export interface BatchResult {
  file(index: number): FileResult;
  /** All the batch's stored bytes back to back (a view of the job's slot: copy before releasing it). */
  data: Buffer;
}

/** Many small files read and deflated by one worker; the answer holds all their bytes back to back. */
export class BatchJob {
  readonly result: Promise<BatchResult>;
  /** The result once it has arrived, so the writer need not wait on a settled promise per file. */
  value?: BatchResult;
  /** Files of this batch not yet written to the archive. */
  remaining: number;
  ticket?: JobTicket;
  private settle!: { resolve: (value: BatchResult) => void; reject: (error: Error) => void };

  constructor(readonly fileCount: number) {
    this.remaining = fileCount;
    this.result = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Awaited only when the batch reaches the head of the archive; a failure before that is reported by the writer.
    this.result.catch(() => {});
  }

  /** `slotBytes` reads the message's slot; batches that outgrew it come with their own buffer. */
  receive(message: WorkerMessage, slotBytes: (message: WorkerMessage) => Buffer): void {
    if (message.type !== "batch") {
      this.settle.reject(new Error(String(message.message ?? "the archive worker failed")));
      return;
    }
    // Per file: size (-1 when unreadable), crc32, method, stored length.
    const meta = message.meta as Float64Array;
    const hashes = message.hashes as Uint8Array;
    const reasons = new Map(message.reasons as Array<[number, string]>);
    const offsets = new Float64Array(this.fileCount);
    let at = 0;
    for (let i = 0; i < this.fileCount; i++) {
      offsets[i] = at;
      if (meta[i * 4]! >= 0) at += meta[i * 4 + 3]!;
    }
    const data = message.data ? Buffer.from(message.data as ArrayBuffer, 0, message.length) : slotBytes(message);
    this.value = {
      data,
      file(index: number): FileResult {
        const size = meta[index * 4]!;
        if (size < 0) return { reason: reasons.get(index) ?? "it could not be read" };
        return {
          size,
          crc32: meta[index * 4 + 1]!,
          method: meta[index * 4 + 2]!,
          length: meta[index * 4 + 3]!,
          sha256: hashes.subarray(index * 32, index * 32 + 32),
          offset: offsets[index]!,
        };
      },
    };
    this.settle.resolve(this.value);
  }

  abort(error: Error): void {
    this.settle.reject(error);
  }
}

/** A large file streamed from one worker chunk by chunk; messages are consumed in order. */
export class LargeFileJob {
  ticket?: JobTicket;
  private readonly messages: WorkerMessage[] = [];
  private waiter?: { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void };
  private failure?: Error;

  constructor(private readonly pool: WorkerPool) {}

  /** A chunk's bytes in the job's slot: copy them out, then call `chunkCopied`. */
  chunkBytes(message: WorkerMessage): Buffer {
    return this.pool.bytes(this.ticket!, message);
  }

  /** The worker may reuse the slot of the oldest chunk for its next one. */
  chunkCopied(): void {
    this.pool.credit(this.ticket!);
  }

  receive(message: WorkerMessage): void {
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(message);
    } else {
      this.messages.push(message);
    }
  }

  next(): Promise<WorkerMessage> {
    if (this.failure) return Promise.reject(this.failure);
    const message = this.messages.shift();
    if (message) return Promise.resolve(message);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  abort(error: Error): void {
    this.failure = error;
    this.messages.length = 0;
    this.waiter?.reject(error);
    this.waiter = undefined;
  }
}
