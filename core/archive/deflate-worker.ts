/**
 * The archive worker: reads files, checksums them and deflates them into the
 * shared-memory slots the main thread assigns (the protocol is in
 * deflate-protocol.ts). It runs at load, against `workerData`, so nothing
 * imports it: scripts/build-workers.mjs compiles it into the string that
 * deflate-worker-source.ts exports, which the pool starts with `eval: true`.
 * Node built-ins only, as the compiled string must stand alone.
 */
import { createHash, hash } from "node:crypto";
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from "node:fs";
import { parentPort, workerData, type TransferListItem } from "node:worker_threads";
import { constants as zlibConstants, crc32 as zlibCrc32, createDeflateRaw, deflateRawSync, inflateRawSync, type DeflateRaw, type ZlibOptions } from "node:zlib";
import type { BatchReply, BatchRequest, DeflateReply, DeflateRequest, DeflateWorkerData, LargeRequest } from "./deflate-protocol.js";

const data = workerData as DeflateWorkerData;
const port = parentPort!;
const MIN_SAVING = data.minSaving;
const SAMPLE_SIZE = data.sampleSize;
const SLOT_SIZE = data.slotSize;
const SLOT_MEMORY = new Uint8Array(data.slotMemory);
const WINDOW = 32 * 1024;
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK || 0);

const collectGarbage = typeof globalThis.gc === "function" ? () => globalThis.gc!({ type: "minor" }) : () => {};
const sha256 = typeof hash === "function" ? (bytes: Buffer) => hash("sha256", bytes, "buffer") : (bytes: Buffer) => createHash("sha256").update(bytes).digest();
/** Young-generation collections after this many bytes of deflate output, which V8 alone would let pile up. */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;
let allocatedSinceCollect = 0;
function allocated(bytes: number): void {
  allocatedSinceCollect += bytes;
  if (allocatedSinceCollect >= COLLECT_EVERY_BYTES) {
    allocatedSinceCollect = 0;
    collectGarbage();
  }
}

type Job = BatchRequest | LargeRequest;
const queue: Job[] = [];
let running = false;
const creditCount = new Map<number, number>();
const creditWaiter = new Map<number, () => void>();

function send(message: DeflateReply, transfer: TransferListItem[] = []): void {
  port.postMessage(message, transfer);
}

port.on("message", (message: DeflateRequest) => {
  if (message.type === "credit") {
    const waiter = creditWaiter.get(message.id);
    if (waiter) {
      creditWaiter.delete(message.id);
      waiter();
    } else {
      creditCount.set(message.id, (creditCount.get(message.id) || 0) + 1);
    }
    return;
  }
  queue.push(message);
  if (!running) void run();
});

async function run(): Promise<void> {
  running = true;
  while (queue.length > 0) {
    const job = queue.shift()!;
    try {
      if (job.type === "batch") runBatch(job);
      else await runLarge(job);
    } catch (error) {
      send({ type: "failed", id: job.id, message: describe(error) });
    }
  }
  running = false;
}

function describe(error: unknown): string {
  const failure = error as { code?: string; message?: string } | null | undefined;
  if (failure && failure.code === "ENOENT") return "the file no longer exists";
  if (failure && failure.code === "EACCES") return "permission denied";
  if (failure && failure.code === "EPERM") return "operation not permitted";
  if (failure && failure.code === "EISDIR") return "it is now a folder";
  if (failure && failure.code === "ELOOP") return "it is now a symlink loop";
  if (failure && failure.code) return failure.code + ": " + failure.message;
  return String(failure && failure.message ? failure.message : failure);
}

function slotView(slot: number): Uint8Array {
  return SLOT_MEMORY.subarray(slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE);
}

type Opened = { fd: number; size: number; reason?: undefined } | { reason: string };

/** Opens a path that must still be a regular file; never blocks on a FIFO or device that replaced it. */
function openRegularFile(path: string): Opened {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { reason: describe(error) };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      closeSync(fd);
      return { reason: "it is no longer a regular file" };
    }
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    return { reason: describe(error) };
  }
}

/** One read buffer per worker, grown as needed: reading allocates nothing per file. */
let readBuffer = Buffer.allocUnsafeSlow(256 * 1024);

function roundUp(size: number): number {
  let rounded = 64 * 1024;
  while (rounded < size) rounded *= 2;
  return rounded;
}

/**
 * Reads the size the file has when opened: a file that grew or shrank since it
 * was listed is archived as it is now, and one still being appended to gives a
 * consistent prefix.
 */
function readWhole(fd: number, size: number): Buffer {
  if (readBuffer.length < size) readBuffer = Buffer.allocUnsafeSlow(roundUp(size));
  let length = 0;
  while (length < size) {
    const read = readSync(fd, readBuffer, length, size - length, null);
    if (read === 0) break;
    length += read;
  }
  return readBuffer.subarray(0, length);
}

function readChunk(fd: number, buffer: Buffer, position: number, wanted: number): number {
  let length = 0;
  while (length < wanted) {
    const read = readSync(fd, buffer, length, wanted - length, position + length);
    if (read === 0) break;
    length += read;
  }
  return length;
}

/**
 * Deflate options sized to the input: a window no larger than the file and an
 * output chunk that fits the result give the same bytes with less to set up.
 */
function deflateOptions(level: number, length: number): ZlibOptions {
  let windowBits = 9;
  while (windowBits < 15 && 1 << windowBits < length + 262) windowBits++;
  return { level, windowBits, chunkSize: Math.max(64, length + (length >> 8) + 64) };
}

/** The native handle behind a zlib stream, as Node's own sync path drives it. */
interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inputOffset: number, inputLength: number, output: Buffer, outputOffset: number, outputLength: number): void;
}

interface ReusableDeflate {
  stream: DeflateRaw;
  handle: ZlibHandle;
  /** [available output, available input] after the last write. */
  state: Uint32Array;
}

/**
 * Deflating many small files: zlib.deflateRawSync builds a whole stream object
 * per call, which costs about a third as much as compressing a typical 2 KB
 * file. Instead one deflate context per level is reset and reused through the
 * same handle Node's own sync path drives. A self-check before first use, and
 * any error, fall back to deflateRawSync for good.
 */
const reusableDeflates = new Map<number, ReusableDeflate | null>();
let deflateScratch = Buffer.allocUnsafeSlow(256 * 1024);

function deflateSmall(bytes: Buffer, level: number): Buffer {
  let context = reusableDeflates.get(level);
  if (context === undefined) {
    context = createReusableDeflate(level);
    reusableDeflates.set(level, context);
  }
  if (context && !context.stream.destroyed) {
    const needed = bytes.length + (bytes.length >> 3) + 1024;
    if (deflateScratch.length < needed) deflateScratch = Buffer.allocUnsafeSlow(roundUp(needed));
    try {
      const length = runReusableDeflate(context, bytes, deflateScratch);
      if (length >= 0) return deflateScratch.subarray(0, length);
    } catch {
      reusableDeflates.set(level, null);
    }
  }
  const deflated = deflateRawSync(bytes, deflateOptions(level, bytes.length));
  allocated(deflated.length);
  return deflated;
}

/** Output length, or -1 if the stream did not finish in the room given. */
function runReusableDeflate(context: ReusableDeflate, input: Buffer, output: Buffer): number {
  context.stream.reset();
  context.handle.writeSync(zlibConstants.Z_FINISH, input, 0, input.length, output, 0, output.length);
  const [availableOut, availableIn] = context.state;
  return availableIn === 0 && availableOut! > 0 ? output.length - availableOut! : -1;
}

function createReusableDeflate(level: number): ReusableDeflate | null {
  try {
    const stream = createDeflateRaw({ level });
    const internals = stream as unknown as { _handle?: ZlibHandle; _writeState?: unknown };
    const handle = internals._handle;
    const state = internals._writeState;
    if (!handle || typeof handle.writeSync !== "function" || !(state instanceof Uint32Array) || typeof stream.reset !== "function") return null;
    // A zlib error destroys the stream; the next use then falls back.
    stream.on("error", () => {});
    const context = { stream, handle, state };
    const sample = Buffer.from("self-check of a reused deflate context ".repeat(50));
    const output = Buffer.alloc(sample.length * 2 + 1024);
    for (let i = 0; i < 2; i++) {
      const length = runReusableDeflate(context, sample, output);
      if (length < 0 || !inflateRawSync(output.subarray(0, length)).equals(sample)) return null;
    }
    return context;
  } catch {
    return null;
  }
}

function saves(compressedLength: number, length: number): boolean {
  return compressedLength < length * (1 - MIN_SAVING);
}

/** A batch's bytes, back to back in its slot; kept in a private buffer only if they outgrow it. */
class BatchOutput {
  private readonly target: Uint8Array;
  private length = 0;
  private overflow: Buffer[] | undefined = undefined;

  constructor(private readonly slot: number) {
    this.target = slotView(slot);
  }

  append(bytes: Buffer): void {
    if (!this.overflow && this.length + bytes.length <= this.target.length) {
      this.target.set(bytes, this.length);
    } else {
      if (!this.overflow) this.overflow = [Buffer.from(this.target.subarray(0, this.length))];
      this.overflow.push(Buffer.from(bytes));
      allocated(bytes.length);
    }
    this.length += bytes.length;
  }

  message(fields: Omit<BatchReply, "slot" | "data" | "length">): { message: BatchReply; transfer: ArrayBuffer[] } {
    if (!this.overflow) return { message: { ...fields, slot: this.slot, length: this.length }, transfer: [] };
    const bytes = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.overflow) {
      bytes.set(part, at);
      at += part.length;
    }
    return { message: { ...fields, data: bytes.buffer, length: this.length }, transfer: [bytes.buffer] };
  }
}

function runBatch(job: BatchRequest): void {
  const paths = job.paths.split("\0");
  const meta = new Float64Array(paths.length * 4);
  const hashes = new Uint8Array(paths.length * 32);
  const reasons: BatchReply["reasons"] = [];
  const output = new BatchOutput(job.slots[0]!);
  for (let i = 0; i < paths.length; i++) {
    meta[i * 4] = -1;
    const opened = openRegularFile(paths[i]!);
    if (opened.reason !== undefined) {
      reasons.push([i, opened.reason]);
      continue;
    }
    let content: Buffer;
    try {
      content = readWhole(opened.fd, opened.size);
    } catch (error) {
      reasons.push([i, describe(error)]);
      continue;
    } finally {
      closeSync(opened.fd);
    }
    hashes.set(sha256(content), i * 32);
    let method = 0;
    let stored = content;
    if (job.store[i] !== "1" && content.length > 0) {
      const deflated = deflateSmall(content, job.level);
      if (saves(deflated.length, content.length)) {
        method = 8;
        stored = deflated;
      }
    }
    output.append(stored);
    meta[i * 4] = content.length;
    meta[i * 4 + 1] = zlibCrc32(content);
    meta[i * 4 + 2] = method;
    meta[i * 4 + 3] = stored.length;
  }
  const { message, transfer } = output.message({ type: "batch", id: job.id, meta, hashes, reasons });
  send(message, transfer);
}

function takeCredit(id: number): Promise<void> | undefined {
  const available = creditCount.get(id) || 0;
  if (available > 0) {
    creditCount.set(id, available - 1);
    return undefined;
  }
  return new Promise((resolve) => creditWaiter.set(id, resolve));
}

/**
 * Large files: read in chunks; each chunk is deflated on its own with the
 * previous 32 KiB as dictionary and ends with a sync flush, so the chunks
 * concatenate into one deflate stream (as pigz does) while memory stays at a
 * few chunks. The method is chosen from a sample of the first chunk.
 */
async function runLarge(job: LargeRequest): Promise<void> {
  const opened = openRegularFile(job.path);
  if (opened.reason !== undefined) {
    send({ type: "largeEnd", id: job.id, reason: opened.reason });
    return;
  }
  // Every slot of the job starts free.
  creditCount.set(job.id, job.slots.length);
  const buffer = Buffer.allocUnsafeSlow(job.chunkSize);
  const digest = createHash("sha256");
  let crc32 = 0;
  let size = 0;
  let method = job.store ? 0 : -1;
  let dictionary: Buffer | undefined = undefined;
  let chunks = 0;
  try {
    for (;;) {
      let length: number;
      try {
        // Up to the size at open, like small files: a file still being appended to gives a consistent prefix.
        length = readChunk(opened.fd, buffer, size, Math.min(buffer.length, opened.size - size));
      } catch (error) {
        if (chunks === 0) {
          send({ type: "largeEnd", id: job.id, reason: describe(error) });
          return;
        }
        throw error;
      }
      if (length === 0) break;
      const content = buffer.subarray(0, length);
      size += length;
      crc32 = zlibCrc32(content, crc32);
      digest.update(content);
      if (method === -1) {
        const sample = content.subarray(0, SAMPLE_SIZE);
        method = saves(deflateRawSync(sample, { level: 1 }).length, sample.length) ? 8 : 0;
      }
      let output = content;
      if (method === 8) {
        const options: ZlibOptions = { level: job.level, finishFlush: zlibConstants.Z_SYNC_FLUSH };
        if (dictionary) options.dictionary = dictionary;
        output = deflateRawSync(content, options);
        allocated(output.length);
        dictionary = Buffer.from(content.subarray(Math.max(0, length - WINDOW)));
      }
      const waiting = takeCredit(job.id);
      if (waiting) await waiting;
      const slot = job.slots[chunks % job.slots.length]!;
      slotView(slot).set(output, 0);
      send({ type: "chunk", id: job.id, method, slot, length: output.length, read: length });
      chunks++;
    }
    if (method === -1) method = 0;
    send({ type: "largeEnd", id: job.id, size, crc32, sha256: digest.digest(), method, finalBlock: method === 8 });
  } finally {
    closeSync(opened.fd);
    creditCount.delete(job.id);
    creditWaiter.delete(job.id);
  }
}
