/**
 * Source of the restore worker, started with `new Worker(source, { eval: true })`
 * like the archive worker, so it runs the same from `dist/`, under vitest and
 * inside a single-file bundle. Plain CommonJS-style JavaScript, Node built-ins only.
 *
 * A worker inflates entries, checks their size and SHA-256 (and CRC-32 when
 * asked), and writes each file itself into the staging tree, so file content
 * never travels back to the main thread. Files are created with O_EXCL and
 * O_NOFOLLOW: never through a link, never over something that exists.
 *
 * Entries are described compactly, as cloning thousands of small objects per
 * second costs more than the work on them: FIELDS numbers per entry in a
 * Float64Array (see FIELD), the expected SHA-256s back to back in one buffer,
 * target paths joined with NUL ("" for an entry that is only checked).
 *
 * Protocol (ids chosen by the main thread):
 *   in  { type: "batch", id, data, length, fields, sha256, targets }   entries back to back in data[0, length), local headers included
 *   out { type: "batch", id, failures: [Failure], returned: [{ index, data }], recycled }
 *   in  { type: "open", id, fields, sha256, targets }           one large entry, whose stored bytes follow as:
 *   in  { type: "chunk", id, data, length }
 *   out { type: "ack", id, bytes, failed, recycled }            a chunk was consumed; failed: the entry is already bad, send no more
 *
 *   `recycled` is the `data` buffer sent back (transferred) for the next read.
 *   in  { type: "end", id }
 *   out { type: "done", id, failure?: Failure, data? }
 *   out { type: "fatal", id, message }                          a bug, not a bad entry
 *
 *   Failure { index, corrupt: boolean, message, code? }: corrupt = the content is not what the manifest says.
 */
export const FIELD = {
  /** Where the local header starts, within `data` (batches). */
  at: 0,
  /** Where the bytes available to the entry end, within `data` (batches). */
  limit: 1,
  method: 2,
  compressedSize: 3,
  size: 4,
  /** Expected CRC-32, or -1 to skip that check. */
  crc32: 5,
  mode: 6,
  /** 1 when the mode must be set explicitly (the umask took bits off the creation mode). */
  chmod: 7,
  mtimeMs: 8,
  /** Owner to give the file, or -1. */
  uid: 9,
  gid: 10,
  /** 1 to send the checked content back. */
  returnData: 11,
} as const;

export const FIELDS = 12;

/**
 * Entries of a batch are inflated whole in memory, so only entries that declare
 * at most this many bytes inflated go into one; larger ones are streamed. A few
 * hundred compressed bytes can declare (and hold) gigabytes, and the declared
 * size is the archive's word, never a reason to allocate.
 */
export const IN_MEMORY_ENTRY_BYTES = 1024 * 1024;

export const EXTRACT_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const zlib = require("node:zlib");
const crypto = require("node:crypto");

const F = ${JSON.stringify(FIELD)};
const IN_MEMORY_ENTRY_BYTES = ${IN_MEMORY_ENTRY_BYTES};
const FIELDS = ${FIELDS};
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const CREATE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW || 0);
const large = new Map();
const queue = [];
let running = false;

parentPort.on("message", (message) => {
  queue.push(message);
  if (!running) run();
});

async function run() {
  running = true;
  while (queue.length > 0) {
    const message = queue.shift();
    try {
      if (message.type === "batch") runBatch(message);
      else if (message.type === "open") openLarge(message);
      else if (message.type === "chunk") await chunkLarge(message);
      else if (message.type === "end") await endLarge(message);
    } catch (error) {
      parentPort.postMessage({ type: "fatal", id: message.id, message: String((error && error.stack) || error) });
    }
  }
  running = false;
}

function corrupt(index, message) {
  return { index, corrupt: true, message };
}

function ioFailure(index, error) {
  const code = error && error.code;
  return { index, corrupt: false, code, message: error && error.message ? error.message : String(error) };
}

/** Where an entry's stored bytes start, from its local header (which may differ from the central one). */
function dataStart(bytes, at, limit, compressedSize) {
  if (at + 30 > limit || bytes.readUInt32LE(at) !== LOCAL_HEADER_SIGNATURE) return -1;
  const start = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
  if (start + compressedSize > limit) return -2;
  return start;
}

function sameDigest(digest, expected, index) {
  return digest.equals(expected.subarray(index * 32, index * 32 + 32));
}

/** One-shot hashing where Node has it: for small files, creating a Hash object per file costs as much as hashing. */
const sha256Of = crypto.hash ? (content) => crypto.hash("sha256", content, "buffer") : (content) => crypto.createHash("sha256").update(content).digest();

function writeAll(fd, content) {
  let at = 0;
  while (at < content.length) at += fs.writeSync(fd, content, at, content.length - at);
}

/** Mode, owner and time once the content is written; the fd is of a file this run created. */
function finishFile(fd, fields, base) {
  if (fields[base + F.chmod] === 1) fs.fchmodSync(fd, fields[base + F.mode]);
  if (fields[base + F.uid] >= 0) fs.fchownSync(fd, fields[base + F.uid], fields[base + F.gid]);
  // Half a microsecond over: the conversion to a timespec truncates, and ms/1000 is often just below the exact value.
  const seconds = fields[base + F.mtimeMs] / 1000 + 5e-7;
  fs.futimesSync(fd, seconds, seconds);
}

function ownCopy(content) {
  const copy = new ArrayBuffer(content.length);
  new Uint8Array(copy).set(content);
  return copy;
}

function runBatch(job) {
  const bytes = Buffer.from(job.data, 0, job.length);
  const fields = job.fields;
  const expected = Buffer.from(job.sha256);
  const targets = job.targets.split("\0");
  const count = fields.length / FIELDS;
  const failures = [];
  const returned = [];
  const transfer = [];
  for (let index = 0; index < count; index++) {
    const base = index * FIELDS;
    const size = fields[base + F.size];
    const compressedSize = fields[base + F.compressedSize];
    const start = dataStart(bytes, fields[base + F.at], fields[base + F.limit], compressedSize);
    if (start < 0) {
      failures.push(corrupt(index, start === -1 ? "its local header is missing or damaged" : "its data runs into the next entry"));
      continue;
    }
    const stored = bytes.subarray(start, start + compressedSize);
    let content;
    if (fields[base + F.method] === 0) content = stored;
    else {
      try {
        // One byte over the expected size is enough to tell that an entry holds more than it says; an output
        // chunk of that size makes the result one allocation instead of 16 KiB pieces joined by a copy.
        // Batches hold only entries that declare at most IN_MEMORY_ENTRY_BYTES; the chunk is capped there too, so no
        // declared size ever decides an allocation.
        content = zlib.inflateRawSync(stored, { maxOutputLength: size + 1, chunkSize: Math.max(64, Math.min(size + 1, IN_MEMORY_ENTRY_BYTES + 1)) });
      } catch (error) {
        failures.push(corrupt(index, error && error.code === "ERR_BUFFER_TOO_LARGE" ? "it inflates to more than the manifest says" : "it cannot be decompressed (" + error.message + ")"));
        continue;
      }
    }
    if (content.length !== size) {
      failures.push(corrupt(index, "it holds " + content.length + " bytes where the manifest says " + size));
      continue;
    }
    if (!sameDigest(sha256Of(content), expected, index)) {
      failures.push(corrupt(index, "its SHA-256 does not match the manifest"));
      continue;
    }
    const crc = fields[base + F.crc32];
    if (crc >= 0 && zlib.crc32(content) >>> 0 !== crc) {
      failures.push(corrupt(index, "its CRC-32 does not match the zip's"));
      continue;
    }
    if (fields[base + F.returnData] === 1) {
      const data = ownCopy(content);
      returned.push({ index, data });
      transfer.push(data);
    }
    const target = targets[index];
    if (target) {
      let fd;
      try {
        fd = fs.openSync(target, CREATE_FLAGS, fields[base + F.mode]);
        writeAll(fd, content);
        finishFile(fd, fields, base);
      } catch (error) {
        failures.push(ioFailure(index, error));
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
  }
  transfer.push(job.data);
  parentPort.postMessage({ type: "batch", id: job.id, failures, returned, recycled: job.data }, transfer);
}

function openLarge(message) {
  const fields = message.fields;
  const state = {
    fields,
    expected: Buffer.from(message.sha256),
    size: 0,
    hash: crypto.createHash("sha256"),
    crc: fields[F.crc32] >= 0 ? 0 : undefined,
    fd: undefined,
    failure: undefined,
    inflater: undefined,
    chunks: fields[F.returnData] === 1 ? [] : undefined,
  };
  large.set(message.id, state);
  if (message.targets) {
    try {
      state.fd = fs.openSync(message.targets, CREATE_FLAGS, fields[F.mode]);
    } catch (error) {
      state.failure = ioFailure(0, error);
    }
  }
  if (fields[F.method] !== 0) {
    state.inflater = zlib.createInflateRaw();
    state.inflater.on("data", (content) => consume(state, content));
    state.inflater.on("error", (error) => {
      if (!state.failure) state.failure = corrupt(0, "it cannot be decompressed (" + error.message + ")");
    });
  }
}

function consume(state, content) {
  if (state.failure) return;
  state.size += content.length;
  if (state.size > state.fields[F.size]) {
    state.failure = corrupt(0, "it inflates to more than the manifest says");
    if (state.inflater) state.inflater.destroy();
    return;
  }
  state.hash.update(content);
  if (state.crc !== undefined) state.crc = zlib.crc32(content, state.crc);
  if (state.chunks) state.chunks.push(Buffer.from(content));
  if (state.fd !== undefined) {
    try {
      writeAll(state.fd, content);
    } catch (error) {
      state.failure = ioFailure(0, error);
    }
  }
}

async function chunkLarge(message) {
  const state = large.get(message.id);
  const data = Buffer.from(message.data, 0, message.length);
  if (state && !state.failure) {
    if (state.inflater) {
      await new Promise((resolve) => {
        if (state.inflater.destroyed) return resolve();
        state.inflater.write(data, () => resolve());
      });
    } else {
      consume(state, data);
    }
  }
  parentPort.postMessage({ type: "ack", id: message.id, bytes: data.length, failed: Boolean(state && state.failure), recycled: message.data }, [message.data]);
}

async function endLarge(message) {
  const state = large.get(message.id);
  large.delete(message.id);
  if (!state) return;
  if (state.inflater && !state.inflater.destroyed && !state.failure) {
    await new Promise((resolve) => {
      state.inflater.once("end", resolve);
      state.inflater.once("error", resolve);
      state.inflater.once("close", resolve);
      state.inflater.end();
    });
  }
  const fields = state.fields;
  let failure = state.failure;
  if (!failure) {
    if (state.size !== fields[F.size]) failure = corrupt(0, "it holds " + state.size + " bytes where the manifest says " + fields[F.size]);
    else if (!sameDigest(state.hash.digest(), state.expected, 0)) failure = corrupt(0, "its SHA-256 does not match the manifest");
    else if (state.crc !== undefined && state.crc >>> 0 !== fields[F.crc32]) failure = corrupt(0, "its CRC-32 does not match the zip's");
  }
  if (state.fd !== undefined) {
    try {
      if (!failure) finishFile(state.fd, fields, 0);
    } catch (error) {
      failure = ioFailure(0, error);
    } finally {
      fs.closeSync(state.fd);
    }
  }
  if (failure || !state.chunks) {
    parentPort.postMessage({ type: "done", id: message.id, failure });
    return;
  }
  const data = ownCopy(Buffer.concat(state.chunks));
  parentPort.postMessage({ type: "done", id: message.id, data }, [data]);
}
`;
