/**
 * Many small files read, checksummed and deflated in one go: what an archive
 * worker does with a batch, and what the main thread does itself when the work
 * is too small to be worth starting a worker. Node built-ins only, as the
 * worker's compiled string must stand alone.
 */
import { createHash, hash } from "node:crypto";
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from "node:fs";
import { constants as zlibConstants, crc32 as zlibCrc32, createGzip, deflateRawSync, inflateRawSync, type Gzip, type ZlibOptions } from "node:zlib";
import { libdeflateLevelFor } from "./compression-policy.js";
import type { BatchReply } from "./deflate-protocol.js";
import { deflateRoom, type LibdeflateBinding } from "./libdeflate-binding.js";

const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK || 0);
/** Sizes past this are not small files; a larger listed size is ignored. */
const MAX_LISTED = 2 ** 31;
/** The store flag of a file that is stored as it is ("1"). */
const STORE = 49;

const sha256 = typeof hash === "function" ? (bytes: Buffer) => hash("sha256", bytes, "buffer") : (bytes: Buffer) => createHash("sha256").update(bytes).digest();

/** Told of every buffer allocated per file (the worker paces its garbage collections by it). */
let allocated: (bytes: number) => void = () => {};

export function onAllocation(hook: (bytes: number) => void): void {
  allocated = hook;
}

/** Why a file could not be read, in words a user understands. */
export function describe(error: unknown): string {
  const failure = error as { code?: string; message?: string } | null | undefined;
  if (failure && failure.code === "ENOENT") return "the file no longer exists";
  if (failure && failure.code === "EACCES") return "permission denied";
  if (failure && failure.code === "EPERM") return "operation not permitted";
  if (failure && failure.code === "EISDIR") return "it is now a folder";
  if (failure && failure.code === "ELOOP") return "it is now a symlink loop";
  if (failure && failure.code) return failure.code + ": " + failure.message;
  return String(failure && failure.message ? failure.message : failure);
}

/** Opens a path for reading (never blocking on a FIFO), or says why it cannot be. */
function openForReading(path: string): number | { reason: string } {
  try {
    return openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { reason: describe(error) };
  }
}

export type Opened = { fd: number; size: number; reason?: undefined } | { reason: string };

/** Opens a path that must still be a regular file; never blocks on a FIFO or device that replaced it. */
export function openRegularFile(path: string): Opened {
  const fd = openForReading(path);
  if (typeof fd !== "number") return fd;
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

/** Reads from the file's current position into `readBuffer` from `length` until `end` or the end of the file; returns the new length. */
function readUntil(fd: number, length: number, end: number): number {
  if (readBuffer.length < end) {
    const larger = Buffer.allocUnsafeSlow(roundUp(end));
    readBuffer.copy(larger, 0, 0, length);
    readBuffer = larger;
  }
  while (length < end) {
    const read = readSync(fd, readBuffer, length, end - length, null);
    if (read === 0) break;
    length += read;
  }
  return length;
}

/**
 * Reads a small file whole, up to the size it has when opened: a file that
 * grew or shrank since it was listed is archived as it is now, and one still
 * being appended to gives a consistent prefix. `listed` is the size the walk
 * saw. One read asks for a byte more than that: a regular file gives less
 * than asked only at its end, so getting exactly `listed` bytes shows the file
 * is as listed, and the common case costs open, read and close. Any other
 * outcome (a different size, an empty read, an error) is settled by an fstat,
 * which also turns away what is no longer a regular file (a folder; a FIFO,
 * opened non-blocking, reads as empty).
 */
export function readSmallFile(path: string, listed: number): Buffer | { reason: string } {
  // A size that is no count of bytes (none was known) leaves the answer to fstat.
  if (!(listed > 0 && listed <= MAX_LISTED)) listed = 0;
  listed = Math.floor(listed);
  const fd = openForReading(path);
  if (typeof fd !== "number") return fd;
  try {
    let length = 0;
    let readError: unknown;
    try {
      if (readBuffer.length <= listed) readBuffer = Buffer.allocUnsafeSlow(roundUp(listed + 1));
      length = readSync(fd, readBuffer, 0, listed + 1, null);
      if (length === listed && listed > 0) return readBuffer.subarray(0, length);
      if (length > 0) length = readUntil(fd, length, listed + 1);
    } catch (error) {
      readError = error;
    }
    let size: number;
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) return { reason: "it is no longer a regular file" };
      size = stats.size;
    } catch (error) {
      return { reason: describe(error) };
    }
    if (readError !== undefined) return { reason: describe(readError) };
    if (length > size) length = size;
    else if (length < size) length = readUntil(fd, length, size);
    return readBuffer.subarray(0, length);
  } catch (error) {
    return { reason: describe(error) };
  } finally {
    closeSync(fd);
  }
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

/** Every zlib stream has `reset()`; the gzip one's type does not say so. */
type ResettableGzip = Gzip & { reset(): void };

interface ReusableDeflate {
  stream: ResettableGzip;
  handle: ZlibHandle;
  /** [available output, available input] after the last write. */
  state: Uint32Array;
}

/**
 * Deflating many small files: zlib.deflateRawSync builds a whole stream object
 * per call, which costs about a third as much as compressing a typical 2 KB
 * file. Instead one deflate context per level is reset and reused through the
 * same handle Node's own sync path drives. The context writes gzip: its data is
 * the same raw deflate stream, between a fixed 10-byte header and a trailer
 * whose CRC-32 zlib computed while it read the input, which saves a pass over
 * the file. A self-check before first use, and any error, fall back to
 * deflateRawSync for good.
 */
const reusableDeflates = new Map<number, ReusableDeflate | null>();
let deflateScratch = Buffer.allocUnsafeSlow(256 * 1024);
/** A gzip header with no optional fields, and the trailer: CRC-32 and length. */
const GZIP_HEADER = 10;
const GZIP_TRAILER = 8;

/** The CRC-32 of the input of the last {@link deflateSmall}, or -1 when it did not compute one. */
let deflatedCrc32 = -1;

/** Raw deflate data of `bytes`, by libdeflate when given it; sets {@link deflatedCrc32}. */
function deflateSmall(bytes: Buffer, level: number, libdeflate: LibdeflateBinding | undefined): Buffer {
  deflatedCrc32 = -1;
  const needed = deflateRoom(bytes.length);
  if (libdeflate) {
    if (deflateScratch.length < needed) deflateScratch = Buffer.allocUnsafeSlow(roundUp(needed));
    const length = libdeflate.deflate(bytes, libdeflateLevelFor(bytes.length, level), deflateScratch);
    if (length > 0) {
      deflatedCrc32 = libdeflate.crc32(bytes);
      return deflateScratch.subarray(0, length);
    }
  }
  let context = reusableDeflates.get(level);
  if (context === undefined) {
    context = createReusableDeflate(level);
    reusableDeflates.set(level, context);
  }
  if (context && !context.stream.destroyed) {
    if (deflateScratch.length < needed) deflateScratch = Buffer.allocUnsafeSlow(roundUp(needed));
    try {
      const length = runReusableDeflate(context, bytes, deflateScratch);
      if (length >= 0) {
        deflatedCrc32 = deflateScratch.readUInt32LE(length - GZIP_TRAILER);
        return deflateScratch.subarray(GZIP_HEADER, length - GZIP_TRAILER);
      }
    } catch {
      reusableDeflates.set(level, null);
    }
  }
  const deflated = deflateRawSync(bytes, deflateOptions(level, bytes.length));
  allocated(deflated.length);
  return deflated;
}

/** Output length (gzip framing included), or -1 if the stream did not finish in the room given. */
function runReusableDeflate(context: ReusableDeflate, input: Buffer, output: Buffer): number {
  context.stream.reset();
  context.handle.writeSync(zlibConstants.Z_FINISH, input, 0, input.length, output, 0, output.length);
  // Indexed, not destructured: destructuring a typed array allocates an iterator per file.
  const availableOut = context.state[0]!;
  const availableIn = context.state[1]!;
  return availableIn === 0 && availableOut > 0 ? output.length - availableOut : -1;
}

function createReusableDeflate(level: number): ReusableDeflate | null {
  try {
    const stream = createGzip({ level }) as ResettableGzip;
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
      // The framing must be the plain one: the data at a fixed offset, the CRC and length of the input after it.
      if (length < GZIP_HEADER + GZIP_TRAILER || output[0] !== 0x1f || output[1] !== 0x8b || output[2] !== 8 || output[3] !== 0) return null;
      if (output.readUInt32LE(length - GZIP_TRAILER) !== zlibCrc32(sample) || output.readUInt32LE(length - 4) !== sample.length) return null;
      if (!inflateRawSync(output.subarray(GZIP_HEADER, length - GZIP_TRAILER)).equals(sample)) return null;
    }
    return context;
  } catch {
    return null;
  }
}

/** Whether deflated output saves enough of `length` (at least `minSaving` of it) to be stored deflated. */
export function saves(compressedLength: number, length: number, minSaving: number): boolean {
  return compressedLength < length * (1 - minSaving);
}

/** A batch's bytes, back to back in its target (a worker's slot); kept in a private buffer only if they outgrow it. */
class BatchOutput {
  private length = 0;
  private overflow: Buffer[] | undefined = undefined;

  constructor(private readonly target: Uint8Array) {}

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

  /** The answer without its slot (the caller knows it); `data` only when the bytes outgrew the target. */
  message(fields: BatchFields): { message: BatchAnswer; transfer: ArrayBuffer[] } {
    // The per-file tables move to the main thread rather than being copied.
    const tables = [fields.meta.buffer as ArrayBuffer, fields.hashes.buffer as ArrayBuffer];
    if (!this.overflow) return { message: { ...fields, length: this.length }, transfer: tables };
    const bytes = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.overflow) {
      bytes.set(part, at);
      at += part.length;
    }
    return { message: { ...fields, data: bytes.buffer, length: this.length }, transfer: [...tables, bytes.buffer] };
  }
}

type BatchFields = Omit<BatchReply, "slot" | "data" | "length">;
/** A batch's reply, less the slot its bytes are in when they fit. */
export type BatchAnswer = BatchFields & { length: number; data?: ArrayBuffer };

/** A batch file's bytes, or why they could not be had. */
export type ReadBatchFile = (index: number) => Buffer | { reason: string };

/**
 * A batch's files handed over as bytes, back to back in `input` (a shared
 * slot), `sizes` long each: each is copied out before use, as the main thread
 * may reuse the slot once the answer is written.
 */
export function bytesInSlot(input: Uint8Array, sizes: Float64Array): ReadBatchFile {
  const offsets = new Float64Array(sizes.length);
  for (let i = 1; i < sizes.length; i++) offsets[i] = offsets[i - 1]! + sizes[i - 1]!;
  return (index) => {
    const length = sizes[index]!;
    if (readBuffer.length < length) readBuffer = Buffer.allocUnsafeSlow(roundUp(length));
    readBuffer.set(input.subarray(offsets[index]!, offsets[index]! + length));
    return readBuffer.subarray(0, length);
  };
}

/**
 * Reads each file of the batch (up to the size it has when opened; or from
 * `read`, when its bytes were handed over), hashes it and deflates it (with
 * `libdeflate` when given, else zlib) unless it is to be stored or deflate
 * saves too little; the stored bytes go back to back into `target`.
 */
export function deflateFileBatch(
  job: { id: number; paths: string; store: string; sizes: Float64Array; level: number },
  target: Uint8Array,
  minSaving: number,
  read?: ReadBatchFile,
  libdeflate?: LibdeflateBinding,
): { message: BatchAnswer; transfer: ArrayBuffer[] } {
  const count = job.sizes.length;
  let readFile = read;
  if (!readFile) {
    const paths = job.paths.split("\0");
    readFile = (index) => readSmallFile(paths[index]!, job.sizes[index]!);
  }
  const meta = new Float64Array(count * 4);
  const hashes = new Uint8Array(count * 32);
  const reasons: BatchReply["reasons"] = [];
  const output = new BatchOutput(target);
  for (let i = 0; i < count; i++) {
    meta[i * 4] = -1;
    const content = readFile(i);
    if (!(content instanceof Uint8Array)) {
      reasons.push([i, content.reason]);
      continue;
    }
    hashes.set(sha256(content), i * 32);
    let method = 0;
    let stored = content;
    let crc32 = -1;
    if (job.store.charCodeAt(i) !== STORE && content.length > 0) {
      const deflated = deflateSmall(content, job.level, libdeflate);
      crc32 = deflatedCrc32;
      if (saves(deflated.length, content.length, minSaving)) {
        method = 8;
        stored = deflated;
      }
    }
    output.append(stored);
    meta[i * 4] = content.length;
    meta[i * 4 + 1] = crc32 >= 0 ? crc32 : zlibCrc32(content);
    meta[i * 4 + 2] = method;
    meta[i * 4 + 3] = stored.length;
  }
  return output.message({ type: "batch", id: job.id, meta, hashes, reasons });
}
