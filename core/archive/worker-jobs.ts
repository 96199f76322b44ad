import type { WorkerMessage } from "./worker-pool.js";

/** What a worker reports for one small file: its content facts, or why it could not be read. */
export type FileResult =
  | { size: number; crc32: number; sha256: string; method: number; length: number; reason?: undefined }
  | { reason: string };

/** Many small files read and deflated by one worker; the answer holds all their bytes back to back. */
export class BatchJob {
  readonly result: Promise<{ results: FileResult[]; data: Buffer; offsets: number[] }>;
  /** Files of this batch not yet written to the archive. */
  remaining: number;
  private settle!: { resolve: (value: { results: FileResult[]; data: Buffer; offsets: number[] }) => void; reject: (error: Error) => void };

  constructor(readonly fileCount: number) {
    this.remaining = fileCount;
    this.result = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Awaited only when the batch reaches the head of the archive; a failure before that is reported by the writer.
    this.result.catch(() => {});
  }

  receive(message: WorkerMessage): void {
    if (message.type !== "batch") {
      this.settle.reject(new Error(String(message.message ?? "the archive worker failed")));
      return;
    }
    const results = message.results as FileResult[];
    const offsets: number[] = [];
    let at = 0;
    for (const result of results) {
      offsets.push(at);
      if (result.reason === undefined) at += result.length;
    }
    this.settle.resolve({ results, data: Buffer.from(message.data as ArrayBuffer, 0, message.length as number), offsets });
  }

  abort(error: Error): void {
    this.settle.reject(error);
  }
}

/** A large file streamed from one worker chunk by chunk; messages are consumed in order. */
export class LargeFileJob {
  id = 0;
  private readonly messages: WorkerMessage[] = [];
  private waiter?: { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void };
  private failure?: Error;

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
