/**
 * The work of a restore worker: inflates entries, checks their size and
 * SHA-256 (and CRC-32 when asked), and writes each file itself into the
 * staging tree, so file content never travels back to the caller. Files are
 * created with O_EXCL and O_NOFOLLOW: never through a link, never over
 * something that exists. The protocol is in extract-protocol.ts.
 *
 * It runs in a worker thread (extract-worker.ts), or on the main thread for an
 * archive too small to be worth starting one. Node built-ins only: the worker
 * thread's compiled source must stand alone.
 */
import { createHash, hash, type Hash } from "node:crypto";
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, writeSync } from "node:fs";
import { crc32, createInflateRaw, inflateRawSync, type InflateRaw } from "node:zlib";
import {
  FIELD as F,
  FIELDS,
  IN_MEMORY_ENTRY_BYTES,
  type ChunkRequest,
  type EndRequest,
  type ExtractBatchRequest,
  type ExtractFailure,
  type ExtractReply,
  type ExtractRequest,
  type OpenRequest,
  type RemoveRequest,
} from "./extract-protocol.js";
import { removeTreeSync } from "../fs/tree-removal.js";
import { INFLATE_NO_ROOM, type LibdeflateBinding } from "./libdeflate-binding.js";

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW || 0);

/** A large entry being streamed: what it must turn out to be, and what it is so far. */
interface LargeEntry {
  fields: Float64Array;
  expected: Buffer;
  size: number;
  hash: Hash;
  crc: number | undefined;
  fd: number | undefined;
  failure: ExtractFailure | undefined;
  inflater: InflateRaw | undefined;
  /** The content so far, kept only when it is to be sent back. */
  chunks: Buffer[] | undefined;
}

/** Sends a reply; `transfer` lists the buffers that change hands (a thread transfers them). */
export type SendReply = (message: ExtractReply, transfer?: ArrayBuffer[]) => void;

/** One worker's jobs: requests are taken in order, one at a time (a large entry's chunk waits for its inflater). */
export class ExtractWork {
  private readonly large = new Map<number, LargeEntry>();
  private readonly queue: ExtractRequest[] = [];
  private running = false;

  /** Where libdeflate inflates a batch's entries, one at a time: each is hashed, checked and written before the next. */
  private inflated = Buffer.alloc(0);

  /** `libdeflate`, when given, inflates the batches' entries; zlib streams the large ones either way. */
  constructor(
    private readonly send: SendReply,
    private readonly libdeflate?: LibdeflateBinding,
  ) {}

  receive(message: ExtractRequest): void {
    this.queue.push(message);
    if (!this.running) void this.run();
  }

  private remove(request: RemoveRequest): void {
    try {
      removeTreeSync(request.path);
      this.send({ type: "done", id: request.id });
    } catch (error) {
      const failure = error as NodeJS.ErrnoException;
      this.send({ type: "done", id: request.id, failure: { index: 0, corrupt: false, message: failure.message, code: failure.code } });
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const message = this.queue.shift()!;
      try {
        if (message.type === "batch") this.runBatch(message);
        else if (message.type === "open") this.openLarge(message);
        else if (message.type === "chunk") await this.chunkLarge(message);
        else if (message.type === "end") await this.endLarge(message);
        else if (message.type === "remove") this.remove(message);
      } catch (error) {
        const failure = error as { stack?: string } | null | undefined;
        this.send({ type: "fatal", id: message.id, message: String((failure && failure.stack) || failure) });
      }
    }
    this.running = false;
  }

  private runBatch(job: ExtractBatchRequest): void {
    const bytes = Buffer.from(job.data, 0, job.length);
    const fields = job.fields;
    const expected = Buffer.from(job.sha256.buffer, job.sha256.byteOffset, job.sha256.byteLength);
    const targets = job.targets.split("\0");
    const count = fields.length / FIELDS;
    const failures: ExtractFailure[] = [];
    const returned: Array<{ index: number; data: ArrayBuffer }> = [];
    const transfer: ArrayBuffer[] = [];
    for (let index = 0; index < count; index++) {
      const base = index * FIELDS;
      const size = fields[base + F.size]!;
      const compressedSize = fields[base + F.compressedSize]!;
      const start = dataStart(bytes, fields[base + F.at]!, fields[base + F.limit]!, compressedSize);
      if (start < 0) {
        failures.push(corrupt(index, start === -1 ? "its local header is missing or damaged" : "its data runs into the next entry"));
        continue;
      }
      const stored = bytes.subarray(start, start + compressedSize);
      let content: Buffer;
      if (fields[base + F.method] === 0) content = stored;
      else {
        // One byte over the expected size is enough to tell that an entry holds more than it says. Batches hold only
        // entries that declare at most IN_MEMORY_ENTRY_BYTES, and the room is capped there too, so no declared size
        // ever decides an allocation.
        const room = Math.min(size, IN_MEMORY_ENTRY_BYTES) + 1;
        if (this.libdeflate) {
          if (this.inflated.length < room) this.inflated = Buffer.allocUnsafeSlow(Math.max(room, 2 * this.inflated.length, 64 * 1024));
          const length = this.libdeflate.inflate(stored, this.inflated.subarray(0, room));
          if (length < 0) {
            failures.push(corrupt(index, length === INFLATE_NO_ROOM ? "it inflates to more than the manifest says" : "it cannot be decompressed (invalid deflate data)"));
            continue;
          }
          content = this.inflated.subarray(0, length);
        } else {
          try {
            // An output chunk of the room's size makes the result one allocation instead of 16 KiB pieces joined by a copy.
            content = inflateRawSync(stored, { maxOutputLength: size + 1, chunkSize: Math.max(64, room) });
          } catch (error) {
            const failure = error as { code?: string; message?: string } | null | undefined;
            failures.push(
              corrupt(index, failure && failure.code === "ERR_BUFFER_TOO_LARGE" ? "it inflates to more than the manifest says" : "it cannot be decompressed (" + failure!.message + ")"),
            );
            continue;
          }
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
      const crc = fields[base + F.crc32]!;
      if (crc >= 0 && crc32(content) >>> 0 !== crc) {
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
        let fd: number | undefined;
        try {
          fd = openSync(target, CREATE_FLAGS, fields[base + F.mode]);
          writeAll(fd, content);
          finishFile(fd, fields, base);
        } catch (error) {
          failures.push(ioFailure(index, error));
        } finally {
          if (fd !== undefined) closeSync(fd);
        }
      }
    }
    transfer.push(job.data, job.description);
    this.send({ type: "batch", id: job.id, failures, returned, recycled: job.data, recycledDescription: job.description }, transfer);
  }

  private openLarge(message: OpenRequest): void {
    const fields = message.fields;
    const state: LargeEntry = {
      fields,
      expected: Buffer.from(message.sha256.buffer, message.sha256.byteOffset, message.sha256.byteLength),
      size: 0,
      hash: createHash("sha256"),
      crc: fields[F.crc32]! >= 0 ? 0 : undefined,
      fd: undefined,
      failure: undefined,
      inflater: undefined,
      chunks: fields[F.returnData] === 1 ? [] : undefined,
    };
    this.large.set(message.id, state);
    if (message.targets) {
      try {
        state.fd = openSync(message.targets, CREATE_FLAGS, fields[F.mode]);
      } catch (error) {
        state.failure = ioFailure(0, error);
      }
    }
    if (fields[F.method] !== 0) {
      const inflater = createInflateRaw();
      state.inflater = inflater;
      inflater.on("data", (content: Buffer) => consume(state, content));
      inflater.on("error", (error) => {
        if (!state.failure) state.failure = corrupt(0, "it cannot be decompressed (" + error.message + ")");
      });
    }
  }

  private async chunkLarge(message: ChunkRequest): Promise<void> {
    const state = this.large.get(message.id);
    const data = Buffer.from(message.data, 0, message.length);
    if (state && !state.failure) {
      const inflater = state.inflater;
      if (inflater) {
        await new Promise<void>((resolve) => {
          if (inflater.destroyed) return resolve();
          inflater.write(data, () => resolve());
        });
      } else {
        consume(state, data);
      }
    }
    this.send({ type: "ack", id: message.id, bytes: data.length, failed: Boolean(state && state.failure), recycled: message.data }, [message.data]);
  }

  private async endLarge(message: EndRequest): Promise<void> {
    const state = this.large.get(message.id);
    this.large.delete(message.id);
    if (!state) return;
    const inflater = state.inflater;
    if (inflater && !inflater.destroyed && !state.failure) {
      await new Promise((resolve) => {
        inflater.once("end", resolve);
        inflater.once("error", resolve);
        inflater.once("close", resolve);
        inflater.end();
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
        closeSync(state.fd);
      }
    }
    if (failure || !state.chunks) {
      this.send({ type: "done", id: message.id, failure });
      return;
    }
    const data = ownCopy(Buffer.concat(state.chunks));
    this.send({ type: "done", id: message.id, data }, [data]);
  }
}

function corrupt(index: number, message: string): ExtractFailure {
  return { index, corrupt: true, message };
}

function ioFailure(index: number, error: unknown): ExtractFailure {
  const failure = error as { code?: string; message?: string } | undefined;
  const code = failure && failure.code;
  return { index, corrupt: false, code, message: failure && failure.message ? failure.message : String(failure) };
}

/** Where an entry's stored bytes start, from its local header (which may differ from the central one). */
function dataStart(bytes: Buffer, at: number, limit: number, compressedSize: number): number {
  if (at + 30 > limit || bytes.readUInt32LE(at) !== LOCAL_HEADER_SIGNATURE) return -1;
  const start = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
  if (start + compressedSize > limit) return -2;
  return start;
}

function sameDigest(digest: Buffer, expected: Buffer, index: number): boolean {
  return digest.equals(expected.subarray(index * 32, index * 32 + 32));
}

/** One-shot hashing where Node has it: for small files, creating a Hash object per file costs as much as hashing. */
const sha256Of = hash ? (content: Buffer) => hash("sha256", content, "buffer") : (content: Buffer) => createHash("sha256").update(content).digest();

function writeAll(fd: number, content: Buffer): void {
  let at = 0;
  while (at < content.length) at += writeSync(fd, content, at, content.length - at);
}

/** Mode, owner and time once the content is written; the fd is of a file this run created. */
function finishFile(fd: number, fields: Float64Array, base: number): void {
  if (fields[base + F.chmod] === 1) fchmodSync(fd, fields[base + F.mode]!);
  if (fields[base + F.uid]! >= 0) fchownSync(fd, fields[base + F.uid]!, fields[base + F.gid]!);
  // Half a microsecond over: the conversion to a timespec truncates, and ms/1000 is often just below the exact value.
  const seconds = fields[base + F.mtimeMs]! / 1000 + 5e-7;
  futimesSync(fd, seconds, seconds);
}

function ownCopy(content: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(content.length);
  new Uint8Array(copy).set(content);
  return copy;
}


function consume(state: LargeEntry, content: Buffer): void {
  if (state.failure) return;
  state.size += content.length;
  if (state.size > state.fields[F.size]!) {
    state.failure = corrupt(0, "it inflates to more than the manifest says");
    if (state.inflater) state.inflater.destroy();
    return;
  }
  state.hash.update(content);
  if (state.crc !== undefined) state.crc = crc32(content, state.crc);
  if (state.chunks) state.chunks.push(Buffer.from(content));
  if (state.fd !== undefined) {
    try {
      writeAll(state.fd, content);
    } catch (error) {
      state.failure = ioFailure(0, error);
    }
  }
}
