import { promisify } from "./promisify.js";
import zlib from "node:zlib";
import type { BlockReply, BlockRequest } from "./block-deflate-job.js";
import type { JobTicket, WorkerMessage } from "./worker-pool.js";

const deflateRawAsync = promisify(zlib.deflateRaw);

/** Deflate looks back at most this far: the history each block gets as its dictionary. */
const WINDOW = 32 * 1024;

/** What the deflater needs of the job scheduler: block jobs on the archive workers. */
export interface BlockJobs {
  submitBlock(request: Omit<BlockRequest, "id" | "slots">, handler: (message: WorkerMessage) => void): JobTicket | undefined;
  slotBytes(ticket: JobTicket, message: WorkerMessage): Buffer;
  slotDone(ticket: JobTicket): void;
}

export interface BlockDeflateOptions {
  level: number;
  blockSize: number;
  /** Blocks read ahead of the one being written: the work the workers share, and the memory in flight. */
  blocksInFlight: number;
  jobs: BlockJobs;
  /** Named in errors. */
  name: string;
  /**
   * The input ring (at least `blockRingBytes` long), when the caller reuses one for entry after
   * entry; a deflater must have ended before the next one takes it.
   */
  ring?: SharedArrayBuffer;
}

/** The shared memory a deflater's input ring takes. */
export function blockRingBytes(blockSize: number, blocksInFlight: number): number {
  return (WINDOW + blockSize) * blocksInFlight;
}

interface Block {
  done: boolean;
  output: Promise<{ bytes: Buffer; ticket?: JobTicket }>;
  fail: (error: Error) => void;
}

/**
 * Deflates one stream on the archive workers, as pigz does: the stream is cut
 * into blocks, each deflated on its own with the 32 KiB before it as dictionary
 * and ended with a sync flush (the last with a final block), so the outputs,
 * joined in order, are one standard deflate stream. Input blocks live in a
 * fixed ring of shared memory and outputs in the workers' slots: a fixed number
 * of blocks is in flight, and `write` waits (so its caller stops reading) while
 * they are all busy.
 */
export class BlockDeflater {
  private readonly input: SharedArrayBuffer;
  private readonly view: Buffer;
  private readonly stride: number;
  private readonly freeInputs: number[];
  /** Dispatched blocks, in stream order, not yet emitted. */
  private readonly queue: Block[] = [];
  /** The block being filled: data goes at `stride * slot + WINDOW`, its dictionary just before. */
  private current?: { slot: number; dictionaryLength: number; filled: number };
  /** The last bytes of the stream so far (up to WINDOW), the next block's dictionary. */
  private readonly history: Buffer;
  private historyLength = 0;
  private failure?: Error;

  constructor(
    private readonly options: BlockDeflateOptions,
    /** Takes the deflated bytes in order; the next call waits until the promise settles. */
    private readonly emit: (bytes: Buffer) => Promise<void>,
  ) {
    if (!Number.isInteger(options.blockSize) || options.blockSize < 1) throw new RangeError(`The deflate block size must be a positive integer, not ${options.blockSize}.`);
    this.stride = WINDOW + options.blockSize;
    const ringBytes = blockRingBytes(options.blockSize, options.blocksInFlight);
    this.input = options.ring && options.ring.byteLength >= ringBytes ? options.ring : new SharedArrayBuffer(ringBytes);
    this.view = Buffer.from(this.input);
    this.freeInputs = Array.from({ length: options.blocksInFlight }, (_, i) => i);
    this.history = Buffer.allocUnsafe(WINDOW);
  }

  async write(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.failure) throw this.failure;
      let current = this.current;
      if (current && current.filled === this.options.blockSize) {
        // Full, and more follows: it is not the last block.
        await this.dispatch(false);
        current = undefined;
      }
      current ??= await this.startBlock();
      const count = Math.min(chunk.length - at, this.options.blockSize - current.filled);
      chunk.copy(this.view, this.stride * current.slot + WINDOW + current.filled, at, at + count);
      current.filled += count;
      at += count;
    }
  }

  /** Deflates what is left as the final block and emits everything. */
  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.current) await this.startBlock();
    await this.dispatch(true);
    while (this.queue.length > 0) await this.emitOldest();
  }

  /** Fails the blocks in flight; `write` and `end` throw `error` from now on. */
  abort(error: Error): void {
    this.failure ??= error;
    for (const block of this.queue) block.fail(error);
  }

  private async startBlock(): Promise<{ slot: number; dictionaryLength: number; filled: number }> {
    while (this.freeInputs.length === 0) await this.emitOldest();
    if (this.failure) throw this.failure;
    const slot = this.freeInputs.pop()!;
    const dictionaryLength = this.historyLength;
    this.history.copy(this.view, this.stride * slot + WINDOW - dictionaryLength, 0, dictionaryLength);
    this.current = { slot, dictionaryLength, filled: 0 };
    return this.current;
  }

  private async dispatch(last: boolean): Promise<void> {
    const { slot, dictionaryLength, filled } = this.current!;
    this.current = undefined;
    const offset = this.stride * slot + WINDOW - dictionaryLength;
    // The block's own tail, with its dictionary before it, is the history of the next.
    const end = this.stride * slot + WINDOW + filled;
    this.historyLength = Math.min(WINDOW, dictionaryLength + filled);
    this.view.copy(this.history, 0, end - this.historyLength, end);

    let settle!: { resolve: (output: { bytes: Buffer; ticket?: JobTicket }) => void; reject: (error: Error) => void };
    const output = new Promise<{ bytes: Buffer; ticket?: JobTicket }>((resolve, reject) => (settle = { resolve, reject }));
    // Awaited when the block reaches the head; a failure before that is reported then.
    output.catch(() => {});
    const block: Block = { done: false, output, fail: (error) => settle.reject(error) };
    const finished = () => {
      block.done = true;
      this.freeInputs.push(slot);
    };
    const request = { type: "block" as const, level: this.options.level, input: this.input, offset, dictionaryLength, length: filled, last };
    const ticket = this.options.jobs.submitBlock(request, (message) => {
      finished();
      if (message.type === "failed") {
        settle.reject(new Error(`Archiving failed while deflating ${this.options.name}: ${String(message.message)}`));
        return;
      }
      const reply = message as unknown as BlockReply;
      const bytes = reply.data ? Buffer.from(reply.data, 0, reply.length) : this.options.jobs.slotBytes(ticket!, message);
      settle.resolve({ bytes, ticket });
    });
    if (!ticket) {
      // No worker took it (the jobs were stopped, or the caller's jobs have no worker): it is deflated here, on libuv's pool.
      const options: zlib.ZlibOptions = { level: this.options.level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
      if (dictionaryLength > 0) options.dictionary = Buffer.from(this.view.subarray(offset, offset + dictionaryLength));
      const content = Buffer.from(this.view.subarray(offset + dictionaryLength, offset + dictionaryLength + filled));
      deflateRawAsync(content, options).then(
        (bytes) => {
          finished();
          settle.resolve({ bytes });
        },
        (error: Error) => {
          finished();
          settle.reject(error);
        },
      );
    }
    this.queue.push(block);
    // Outputs that are ready go out now, so the sink works while the workers do.
    while (this.queue[0]?.done) await this.emitOldest();
  }

  private async emitOldest(): Promise<void> {
    const block = this.queue[0]!;
    const { bytes, ticket } = await block.output;
    this.queue.shift();
    try {
      await this.emit(bytes);
    } finally {
      // Copied into the output (or failed): the worker may reuse the slot.
      if (ticket) this.options.jobs.slotDone(ticket);
    }
  }
}
