import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";

/** Records kept in memory by default before they go to a temp file: small backups never touch the disk. */
export const DEFAULT_SPOOL_MEMORY_BYTES = 8 * 1024 * 1024;

/** Size of the buffers records are appended into and read back through. */
const CHUNK_BYTES = 1024 * 1024;
/** Each record is preceded by its length. */
const LENGTH_BYTES = 4;

export interface RecordSpoolOptions {
  /** Bytes of records kept in memory; past this the records go to a temp file. Default {@link DEFAULT_SPOOL_MEMORY_BYTES}. */
  memoryBytes?: number;
  /** Folder of the temp file. Default: the system's temp folder, never the backup's container. */
  directory?: string;
}

/** Writes one record at `at` in `target` (which has room for the size declared) and returns where it ended. */
export type RecordEncoder<T> = (target: Buffer, at: number, value: T) => number;

/**
 * An append-only list of encoded records, read back in order as many times as
 * needed. Records stay in memory up to a threshold and go to a temp file past
 * it, so what a run keeps per file costs disk, not memory. The temp file is
 * unlinked as soon as it is opened where the system allows it (only the open
 * descriptor keeps it), so it disappears whatever way the process ends;
 * elsewhere it is removed on close or at exit.
 */
export class RecordSpool {
  /** Records appended. */
  count = 0;
  private readonly memoryBytes: number;
  private readonly directory: string;
  /** Filled chunks kept in memory while the spool has not spilled. */
  private readonly chunks: Buffer[] = [];
  private chunksBytes = 0;
  private current = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private currentLength = 0;
  private fd: number | undefined;
  /** Path of a temp file that could not be unlinked while open. */
  private leftover: string | undefined;
  private fileBytes = 0;
  private closed = false;

  constructor(options: RecordSpoolOptions = {}) {
    this.memoryBytes = Math.max(0, options.memoryBytes ?? DEFAULT_SPOOL_MEMORY_BYTES);
    this.directory = options.directory ?? os.tmpdir();
  }

  /** Whether the records went to a temp file. */
  get spilled(): boolean {
    return this.fd !== undefined;
  }

  /** Appends one record of at most `maxSize` bytes, encoded in place. */
  append<T>(maxSize: number, encode: RecordEncoder<T>, value: T): void {
    if (this.closed) throw new Error("Internal error: a record was added to a spool that was closed.");
    const needed = maxSize + LENGTH_BYTES;
    if (this.fd === undefined && this.chunksBytes + this.currentLength + needed > this.memoryBytes) this.spill();
    if (this.currentLength + needed > this.current.length) this.nextChunk(needed);
    const start = this.currentLength;
    const end = encode(this.current, start + LENGTH_BYTES, value);
    this.current.writeUInt32LE(end - start - LENGTH_BYTES, start);
    this.currentLength = end;
    this.count++;
  }

  /**
   * The records in the order appended. Each is a view that is valid only until
   * the next one is read: decode it, do not keep it.
   */
  *records(): Generator<Buffer> {
    if (this.closed) throw new Error("Internal error: a spool was read after it was closed.");
    if (this.fd === undefined) {
      for (const chunk of [...this.chunks, this.current.subarray(0, this.currentLength)]) yield* recordsIn(chunk, 0, chunk.length);
      return;
    }
    this.writeCurrent();
    yield* this.recordsFromFile(this.fd);
  }

  /** Lets the records go and removes the temp file; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks.length = 0;
    this.current = Buffer.alloc(0);
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.leftover) removeLeftover(this.leftover);
  }

  private nextChunk(needed: number): void {
    if (this.fd !== undefined) this.writeCurrent();
    else if (this.currentLength > 0) {
      this.chunks.push(this.current.subarray(0, this.currentLength));
      this.chunksBytes += this.currentLength;
      this.current = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    }
    this.currentLength = 0;
    if (this.current.length < needed) this.current = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, needed));
  }

  private spill(): void {
    const file = path.join(this.directory, `app-backup-spool-${process.pid}-${randomBytes(6).toString("hex")}`);
    this.fd = openSync(file, "wx+", 0o600);
    try {
      unlinkSync(file);
    } catch {
      // Windows keeps an open file's name: it goes on close, or at exit.
      this.leftover = file;
      if (leftovers.size === 0) process.once("exit", removeLeftovers);
      leftovers.add(file);
    }
    for (const chunk of this.chunks) this.writeAll(chunk);
    this.chunks.length = 0;
    this.chunksBytes = 0;
    this.writeCurrent();
  }

  /** Moves what the current chunk holds to the file; the chunk is then reused. */
  private writeCurrent(): void {
    if (this.currentLength === 0) return;
    this.writeAll(this.current.subarray(0, this.currentLength));
    this.currentLength = 0;
  }

  private writeAll(bytes: Buffer): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd!, bytes, done, bytes.length - done, this.fileBytes + done);
    this.fileBytes += bytes.length;
  }

  private *recordsFromFile(fd: number): Generator<Buffer> {
    let buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    let position = 0;
    /** Bytes in `buffer` not yet handed out, from `start` to `end`. */
    let start = 0;
    let end = 0;
    for (;;) {
      // Whole records in the buffer go out as they are; a partial one is moved to the front and completed.
      while (end - start >= LENGTH_BYTES) {
        const length = buffer.readUInt32LE(start);
        if (end - start < LENGTH_BYTES + length) break;
        yield buffer.subarray(start + LENGTH_BYTES, start + LENGTH_BYTES + length);
        start += LENGTH_BYTES + length;
      }
      if (position >= this.fileBytes && start === end) return;
      const partial = end - start;
      const wanted = partial >= LENGTH_BYTES ? LENGTH_BYTES + buffer.readUInt32LE(start) : LENGTH_BYTES;
      if (wanted > buffer.length) {
        const larger = Buffer.allocUnsafeSlow(Math.max(wanted, buffer.length * 2));
        buffer.copy(larger, 0, start, end);
        buffer = larger;
      } else buffer.copy(buffer, 0, start, end);
      start = 0;
      end = partial;
      const read = position < this.fileBytes ? readSync(fd, buffer, end, Math.min(buffer.length - end, this.fileBytes - position), position) : 0;
      if (read === 0) throw new Error("Internal error: a spool's temp file ended inside a record.");
      position += read;
      end += read;
    }
  }
}

function* recordsIn(chunk: Buffer, from: number, to: number): Generator<Buffer> {
  let at = from;
  while (at < to) {
    const length = chunk.readUInt32LE(at);
    yield chunk.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length);
    at += LENGTH_BYTES + length;
  }
}

const leftovers = new Set<string>();

function removeLeftover(file: string): void {
  leftovers.delete(file);
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

function removeLeftovers(): void {
  for (const file of leftovers) removeLeftover(file);
}
