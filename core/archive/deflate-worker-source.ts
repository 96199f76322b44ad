/**
 * Source of the archive worker, started with `new Worker(source, { eval: true })`.
 * Kept as a string so the same code runs from `dist/`, from TypeScript under
 * vitest, and inside a single-file esbuild bundle, with no worker file to locate
 * or copy. It is plain CommonJS-style JavaScript that only uses Node built-ins.
 *
 * Protocol (all ids are numbers chosen by the main thread):
 *   in  { type: "batch", id, level, expectedBytes, files: [{ path, store }] }
 *   out { type: "batch", id, results: [{ size, crc32, sha256, method, length } | { reason }], data: ArrayBuffer, length }
 *   in  { type: "large", id, level, path, store, chunkSize, credits }
 *   out { type: "chunk", id, method, data: ArrayBuffer, read }   (waits for a credit per chunk)
 *   in  { type: "credit", id }
 *   out { type: "largeEnd", id, size, crc32, sha256, method, tail: ArrayBuffer } | { type: "largeEnd", id, reason }
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
const WINDOW = 32 * 1024;
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0);
// The empty final block that closes a deflate stream made of sync-flushed chunks.
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

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

/** Reads until end of file: a file that grew or shrank since it was listed is archived as read. */
function readWhole(fd, sizeHint) {
  if (readBuffer.length < sizeHint + 1) readBuffer = Buffer.allocUnsafeSlow(roundUp(sizeHint + 1));
  let length = 0;
  for (;;) {
    if (length === readBuffer.length) {
      const bigger = Buffer.allocUnsafeSlow(readBuffer.length * 2);
      readBuffer.copy(bigger, 0, 0, length);
      readBuffer = bigger;
    }
    const read = fs.readSync(fd, readBuffer, length, readBuffer.length - length, null);
    if (read === 0) return readBuffer.subarray(0, length);
    length += read;
  }
}

function roundUp(size) {
  let rounded = 64 * 1024;
  while (rounded < size) rounded *= 2;
  return rounded;
}

const sha256Hex = typeof crypto.hash === "function"
  ? (data) => crypto.hash("sha256", data, "hex")
  : (data) => crypto.createHash("sha256").update(data).digest("hex");

/**
 * Deflate options sized to the input: a window no larger than the file and an
 * output chunk that fits the result give the same bytes with less memory to set up.
 */
function deflateOptions(level, length) {
  let windowBits = 9;
  while (windowBits < 15 && (1 << windowBits) < length + 262) windowBits++;
  return { level, windowBits, chunkSize: Math.max(64, length + (length >> 8) + 64) };
}

function saves(compressedLength, length) {
  return compressedLength < length * (1 - MIN_SAVING);
}

/** The bytes of a whole batch, back to back, in one transferable buffer. */
class BatchOutput {
  constructor(expected) {
    this.bytes = new Uint8Array(Math.max(64 * 1024, expected));
    this.length = 0;
  }
  append(data) {
    if (this.length + data.length > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + data.length));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
}

const collectGarbage = typeof globalThis.gc === "function" ? () => globalThis.gc({ type: "minor" }) : () => {};

function runBatch(job) {
  const results = [];
  const output = new BatchOutput(job.expectedBytes);
  for (const file of job.files) {
    const opened = openRegularFile(file.path);
    if (opened.reason) {
      results.push({ reason: opened.reason });
      continue;
    }
    let data;
    try {
      data = readWhole(opened.fd, opened.size);
    } catch (error) {
      results.push({ reason: describe(error) });
      continue;
    } finally {
      fs.closeSync(opened.fd);
    }
    const crc32 = zlib.crc32(data);
    const sha256 = sha256Hex(data);
    let method = 0;
    let stored = data;
    if (!file.store && data.length > 0) {
      const deflated = zlib.deflateRawSync(data, deflateOptions(job.level, data.length));
      if (saves(deflated.length, data.length)) {
        method = 8;
        stored = deflated;
      }
    }
    output.append(stored);
    results.push({ size: data.length, crc32, sha256, method, length: stored.length });
  }
  const data = output.bytes.buffer;
  parentPort.postMessage({ type: "batch", id: job.id, results, data, length: output.length }, [data]);
  collectGarbage();
}

/** A transferable copy: buffers from zlib may share their memory with others. */
function ownArrayBuffer(buffer) {
  const copy = new ArrayBuffer(buffer.length);
  new Uint8Array(copy).set(buffer);
  return copy;
}

function takeCredit(id) {
  const available = creditCount.get(id) || 0;
  if (available > 0) {
    creditCount.set(id, available - 1);
    return undefined;
  }
  return new Promise((resolve) => creditWaiter.set(id, resolve));
}

let chunkBuffer = undefined;
function reusableChunk(size) {
  if (!chunkBuffer || chunkBuffer.length !== size) chunkBuffer = Buffer.allocUnsafeSlow(size);
  return chunkBuffer;
}

function readChunk(fd, buffer, position) {
  let length = 0;
  while (length < buffer.length) {
    const read = fs.readSync(fd, buffer, length, buffer.length - length, position + length);
    if (read === 0) break;
    length += read;
  }
  return length;
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
  creditCount.set(job.id, job.credits);
  const hash = crypto.createHash("sha256");
  let crc32 = 0;
  let size = 0;
  let method = job.store ? 0 : -1;
  let dictionary = undefined;
  let sentData = false;
  let chunks = 0;
  try {
    for (;;) {
      // Stored chunks are handed over to the main thread, so each needs its own memory;
      // deflated ones are read into one buffer reused for the whole file.
      const buffer = method === 8 ? reusableChunk(job.chunkSize) : Buffer.from(new ArrayBuffer(job.chunkSize));
      let length;
      try {
        length = readChunk(opened.fd, buffer, size);
      } catch (error) {
        if (!sentData) {
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
      let output;
      if (method === 8) {
        const options = { level: job.level, finishFlush: zlib.constants.Z_SYNC_FLUSH };
        if (dictionary) options.dictionary = dictionary;
        output = ownArrayBuffer(zlib.deflateRawSync(data, options));
        dictionary = Buffer.from(data.subarray(Math.max(0, length - WINDOW)));
      } else {
        output = length === buffer.buffer.byteLength ? buffer.buffer : ownArrayBuffer(data);
      }
      const waiting = takeCredit(job.id);
      if (waiting) await waiting;
      parentPort.postMessage({ type: "chunk", id: job.id, method, data: output, read: length }, [output]);
      sentData = true;
      if (++chunks % 8 === 0) collectGarbage();
    }
    if (method === -1) method = 0;
    const tail = method === 8 ? ownArrayBuffer(FINAL_BLOCK) : new ArrayBuffer(0);
    parentPort.postMessage({ type: "largeEnd", id: job.id, size, crc32, sha256: hash.digest("hex"), method, tail }, [tail]);
  } finally {
    fs.closeSync(opened.fd);
    creditCount.delete(job.id);
    creditWaiter.delete(job.id);
  }
}
`;
