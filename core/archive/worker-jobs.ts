import type { JobTicket, WorkerMessage } from "./worker-pool.js";

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
