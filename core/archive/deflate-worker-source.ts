/**
 * Source of the archive worker, started with `new Worker(source, { eval: true })`.
 * Kept as a string so the same code runs from `dist/`, from TypeScript under
 * vitest, and inside a single-file esbuild bundle, with no worker file to locate
 * or copy. It is plain CommonJS-style JavaScript that only uses Node built-ins.
 *
 * Output goes into slots of a SharedArrayBuffer (workerData.slotMemory, each
 * workerData.slotSize bytes) that the main thread assigns per job and copies
 * out; a job's slot is not touched again until the main thread hands it back.
 *
 * Protocol (ids are chosen by the main thread):
 *   in  { type: "batch", id, level, slots: [slot], paths: "a\0b\0c", store: "010" }
 *   out { type: "batch", id, meta: Float64Array [size, crc32, method, length] per file,
 *         hashes: Uint8Array (32-byte SHA-256 per file), reasons: [[index, reason]], slot, length }
 *       a file that could not be read has size -1 and a reason; a batch that outgrew
 *       its slot comes with data: ArrayBuffer instead of slot
 *   in  { type: "large", id, level, path, store, chunkSize, slots: [slot, ...] }
 *   out { type: "chunk", id, method, slot, length, read }   (slots used in turn; one credit frees the oldest)
 *   in  { type: "credit", id }
 *   out { type: "largeEnd", id, size, crc32, sha256: Uint8Array, method, finalBlock } | { type: "largeEnd", id, reason }
 *   out { type: "failed", id, message }   (an error after data was sent: the archive cannot be completed)
 */
export const DEFLATE_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const zlib = require("node:zlib");
const crypto = require("node:crypto");

const MIN_SAVING = workerData.minSaving;
const SAMPLE_SIZE = workerData.sampleSize;
const SLOT_SIZE = workerData.slotSize;
const SLOT_MEMORY = new Uint8Array(workerData.slotMemory);
const WINDOW = 32 * 1024;
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0);

const collectGarbage = typeof globalThis.gc === "function" ? () => globalThis.gc({ type: "minor" }) : () => {};
const sha256 = typeof crypto.hash === "function"
  ? (data) => crypto.hash("sha256", data, "buffer")
  : (data) => crypto.createHash("sha256").update(data).digest();
/** Young-generation collections after this many bytes of deflate output, which V8 alone would let pile up. */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;
let allocatedSinceCollect = 0;
function allocated(bytes) {
  allocatedSinceCollect += bytes;
  if (allocatedSinceCollect >= COLLECT_EVERY_BYTES) {
    allocatedSinceCollect = 0;
    collectGarbage();
  }
}

const queue = [];
let running = false;
const creditCount = new Map();
const creditWaiter = new Map();

parentPort.on("message", (message) => {
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
  if (!running) run();
});

async function run() {
  running = true;
  while (queue.length > 0) {
    const job = queue.shift();
    try {
      if (job.type === "batch") runBatch(job);
      else await runLarge(job);
    } catch (error) {
      parentPort.postMessage({ type: "failed", id: job.id, message: describe(error) });
    }
  }
  running = false;
}

function describe(error) {
  if (error && error.code === "ENOENT") return "the file no longer exists";
  if (error && error.code === "EACCES") return "permission denied";
  if (error && error.code === "EPERM") return "operation not permitted";
  if (error && error.code === "EISDIR") return "it is now a folder";
  if (error && error.code === "ELOOP") return "it is now a symlink loop";
  if (error && error.code) return error.code + ": " + error.message;
  return String(error && error.message ? error.message : error);
}

function slotView(slot) {
  return SLOT_MEMORY.subarray(slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE);
}

/** Opens a path that must still be a regular file; never blocks on a FIFO or device that replaced it. */
function openRegularFile(path) {
  let fd;
  try {
    fd = fs.openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { reason: describe(error) };
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) {
      fs.closeSync(fd);
      return { reason: "it is no longer a regular file" };
    }
    return { fd, size: stats.size };
  } catch (error) {
    fs.closeSync(fd);
    return { reason: describe(error) };
  }
}

/** One read buffer per worker, grown as needed: reading allocates nothing per file. */
let readBuffer = Buffer.allocUnsafeSlow(256 * 1024);

function roundUp(size) {
  let rounded = 64 * 1024;
  while (rounded < size) rounded *= 2;
  return rounded;
}

/**
 * Reads the size the file has when opened: a file that grew or shrank since it
 * was listed is archived as it is now, and one still being appended to gives a
 * consistent prefix.
 */
function readWhole(fd, size) {
  if (readBuffer.length < size) readBuffer = Buffer.allocUnsafeSlow(roundUp(size));
  let length = 0;
  while (length < size) {
    const read = fs.readSync(fd, readBuffer, length, size - length, null);
    if (read === 0) break;
    length += read;
  }
  return readBuffer.subarray(0, length);
}

function readChunk(fd, buffer, position, wanted) {
  let length = 0;
  while (length < wanted) {
    const read = fs.readSync(fd, buffer, length, wanted - length, position + length);
    if (read === 0) break;
    length += read;
  }
  return length;
}

/**
 * Deflate options sized to the input: a window no larger than the file and an
 * output chunk that fits the result give the same bytes with less to set up.
 */
function deflateOptions(level, length) {
  let windowBits = 9;
  while (windowBits < 15 && (1 << windowBits) < length + 262) windowBits++;
  return { level, windowBits, chunkSize: Math.max(64, length + (length >> 8) + 64) };
}

/**
 * Deflating many small files: zlib.deflateRawSync builds a whole stream object
 * per call, which costs about a third as much as compressing a typical 2 KB
 * file. Instead one deflate context per level is reset and reused through the
 * same handle Node's own sync path drives. A self-check before first use, and
 * any error, fall back to deflateRawSync for good.
 */
const reusableDeflates = new Map();
let deflateScratch = Buffer.allocUnsafeSlow(256 * 1024);

function deflateSmall(data, level) {
  let context = reusableDeflates.get(level);
  if (context === undefined) {
    context = createReusableDeflate(level);
    reusableDeflates.set(level, context);
  }
  if (context && !context.stream.destroyed) {
    const needed = data.length + (data.length >> 3) + 1024;
    if (deflateScratch.length < needed) deflateScratch = Buffer.allocUnsafeSlow(roundUp(needed));
    try {
      const length = runReusableDeflate(context, data, deflateScratch);
      if (length >= 0) return deflateScratch.subarray(0, length);
    } catch {
      reusableDeflates.set(level, null);
    }
  }
  const deflated = zlib.deflateRawSync(data, deflateOptions(level, data.length));
  allocated(deflated.length);
  return deflated;
}

/** Output length, or -1 if the stream did not finish in the room given. */
function runReusableDeflate(context, data, output) {
  context.stream.reset();
  context.handle.writeSync(zlib.constants.Z_FINISH, data, 0, data.length, output, 0, output.length);
  const [availableOut, availableIn] = context.state;
  return availableIn === 0 && availableOut > 0 ? output.length - availableOut : -1;
}

function createReusableDeflate(level) {
  try {
    const stream = zlib.createDeflateRaw({ level });
    const handle = stream._handle;
    const state = stream._writeState;
    if (!handle || typeof handle.writeSync !== "function" || !(state instanceof Uint32Array) || typeof stream.reset !== "function") return null;
    // A zlib error destroys the stream; the next use then falls back.
    stream.on("error", () => {});
    const context = { stream, handle, state };
    const sample = Buffer.from("self-check of a reused deflate context ".repeat(50));
    const output = Buffer.alloc(sample.length * 2 + 1024);
    for (let i = 0; i < 2; i++) {
      const length = runReusableDeflate(context, sample, output);
      if (length < 0 || !zlib.inflateRawSync(output.subarray(0, length)).equals(sample)) return null;
    }
    return context;
  } catch {
    return null;
  }
}

function saves(compressedLength, length) {
  return compressedLength < length * (1 - MIN_SAVING);
}

/** A batch's bytes, back to back in its slot; kept in a private buffer only if they outgrow it. */
class BatchOutput {
  constructor(slot) {
    this.slot = slot;
    this.target = slotView(slot);
    this.length = 0;
    this.overflow = undefined;
  }
  append(data) {
    if (!this.overflow && this.length + data.length <= this.target.length) {
      this.target.set(data, this.length);
    } else {
      if (!this.overflow) this.overflow = [Buffer.from(this.target.subarray(0, this.length))];
      this.overflow.push(Buffer.from(data));
      allocated(data.length);
    }
    this.length += data.length;
  }
  message(fields) {
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

function runBatch(job) {
  const paths = job.paths.split("\0");
  const meta = new Float64Array(paths.length * 4);
  const hashes = new Uint8Array(paths.length * 32);
  const reasons = [];
  const output = new BatchOutput(job.slots[0]);
  for (let i = 0; i < paths.length; i++) {
    meta[i * 4] = -1;
    const opened = openRegularFile(paths[i]);
    if (opened.reason) {
      reasons.push([i, opened.reason]);
      continue;
    }
    let data;
    try {
      data = readWhole(opened.fd, opened.size);
    } catch (error) {
      reasons.push([i, describe(error)]);
      continue;
    } finally {
      fs.closeSync(opened.fd);
    }
    hashes.set(sha256(data), i * 32);
    let method = 0;
    let stored = data;
    if (job.store[i] !== "1" && data.length > 0) {
      const deflated = deflateSmall(data, job.level);
      if (saves(deflated.length, data.length)) {
        method = 8;
        stored = deflated;
      }
    }
    output.append(stored);
    meta[i * 4] = data.length;
    meta[i * 4 + 1] = zlib.crc32(data);
    meta[i * 4 + 2] = method;
    meta[i * 4 + 3] = stored.length;
  }
  const { message, transfer } = output.message({ type: "batch", id: job.id, meta, hashes, reasons });
  parentPort.postMessage(message, transfer);
}

function takeCredit(id) {
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
async function runLarge(job) {
  const opened = openRegularFile(job.path);
  if (opened.reason) {
    parentPort.postMessage({ type: "largeEnd", id: job.id, reason: opened.reason });
    return;
  }
  // Every slot of the job starts free.
  creditCount.set(job.id, job.slots.length);
  const buffer = Buffer.allocUnsafeSlow(job.chunkSize);
  const hash = crypto.createHash("sha256");
  let crc32 = 0;
  let size = 0;
  let method = job.store ? 0 : -1;
  let dictionary = undefined;
  let chunks = 0;
  try {
    for (;;) {
      let length;
      try {
        // Up to the size at open, like small files: a file still being appended to gives a consistent prefix.
        length = readChunk(opened.fd, buffer, size, Math.min(buffer.length, opened.size - size));
      } catch (error) {
        if (chunks === 0) {
          parentPort.postMessage({ type: "largeEnd", id: job.id, reason: describe(error) });
          return;
        }
        throw error;
      }
      if (length === 0) break;
      const data = buffer.subarray(0, length);
      size += length;
      crc32 = zlib.crc32(data, crc32);
      hash.update(data);
      if (method === -1) {
        const sample = data.subarray(0, SAMPLE_SIZE);
        method = saves(zlib.deflateRawSync(sample, { level: 1 }).length, sample.length) ? 8 : 0;
      }
      let output = data;
      if (method === 8) {
        const options = { level: job.level, finishFlush: zlib.constants.Z_SYNC_FLUSH };
        if (dictionary) options.dictionary = dictionary;
        output = zlib.deflateRawSync(data, options);
        allocated(output.length);
        dictionary = Buffer.from(data.subarray(Math.max(0, length - WINDOW)));
      }
      const waiting = takeCredit(job.id);
      if (waiting) await waiting;
      const slot = job.slots[chunks % job.slots.length];
      slotView(slot).set(output, 0);
      parentPort.postMessage({ type: "chunk", id: job.id, method, slot, length: output.length, read: length });
      chunks++;
    }
    if (method === -1) method = 0;
    parentPort.postMessage({ type: "largeEnd", id: job.id, size, crc32, sha256: hash.digest(), method, finalBlock: method === 8 });
  } finally {
    fs.closeSync(opened.fd);
    creditCount.delete(job.id);
    creditWaiter.delete(job.id);
  }
}
`;
