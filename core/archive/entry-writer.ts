import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { promisify } from "./promisify.js";
import type { ArchiveTally } from "./archive-tally.js";
import { blockRingBytes, BlockDeflater } from "./block-deflate.js";
import type { CollectionPacer } from "./collection-pacer.js";
import { CHUNK_SIZE, isLargeFile, libdeflateLevelFor, MIN_SAVING, SAMPLE_SIZE } from "./compression-policy.js";
import { FileChunks } from "./file-chunks.js";
import { saves } from "./file-batch.js";
import type { JobScheduler } from "./job-scheduler.js";
import { libdeflateRaw, type LibdeflateBinding } from "./libdeflate-binding.js";
import type { PendingBatchable, PendingBytes, PendingData, PendingEntry, PendingFile, PendingStream } from "./pending-entries.js";
import type { ArchiveEntry, SkippedEntry } from "./types.js";
import type { WrittenEntry } from "./written-entries.js";
import { METHOD_DEFLATE, METHOD_STORE } from "./zip-format.js";
import type { ZipRecords } from "./zip-records.js";

/** Buffers bigger than this are deflated off the main thread. */
const ASYNC_DEFLATE_SIZE = 64 * 1024;
const EMPTY_SHA256 = createHash("sha256").digest();

const deflateRawAsync = promisify(zlib.deflateRaw);

export interface EntryWriterOptions {
  level: number;
  /** Deflates the buffers small enough to deflate here; else zlib does. */
  libdeflate?: LibdeflateBinding;
  jobs: JobScheduler;
  tally: ArchiveTally;
  collection: CollectionPacer;
  /** Throws (having failed the archive) when `streamed` more bytes would pass the size limit. */
  checkLimit: (streamed: number) => void;
  /** How streams and large files are cut into blocks for the workers; smaller values let tests cross block boundaries. */
  streamBlocks?: Partial<StreamBlockOptions>;
}

export interface StreamBlockOptions {
  blockSize: number;
  /** Streams that end within this many bytes are deflated in one piece on the main thread: no worker for small work. */
  smallStreamLimit: number;
  blocksInFlight: number;
}

/**
 * 1 MiB blocks, two per worker plus two being read or written, keep both cores deflating
 * with a fixed 6 MiB of input in flight.
 */
const STREAM_BLOCKS: StreamBlockOptions = { blockSize: CHUNK_SIZE, smallStreamLimit: 4 * 1024 * 1024, blocksInFlight: 6 };

/**
 * Writes pending entries one at a time, in archive order, each from where its
 * content is: the caller's buffer, a worker's batch, or a large file or stream
 * read here and deflated in blocks on the workers.
 */
export class EntryWriter {
  readonly skipped: SkippedEntry[] = [];
  private readonly tally: ArchiveTally;
  private failure?: Error;
  private stopStream?: (error: Error) => void;
  private activeBlocks?: BlockDeflater;
  /** Large files are read through this one buffer, one at a time. */
  private readBuffer?: Buffer;
  /** The input ring every block-deflated entry uses in turn: one allocation for the whole archive. */
  private blockRing?: SharedArrayBuffer;

  constructor(
    private readonly records: ZipRecords,
    private readonly options: EntryWriterOptions,
  ) {
    this.tally = options.tally;
  }

  /** Returns a promise only when the entry could not be written at once. */
  write(entry: PendingEntry): Promise<void> | undefined {
    switch (entry.kind) {
      case "directory":
        return this.writeWhole(entry, { method: METHOD_STORE, crc32: 0, size: 0, sha256: EMPTY_SHA256, payload: entry.data });
      case "symlink":
        return this.writeWhole(entry, {
          method: METHOD_STORE,
          crc32: zlib.crc32(entry.data),
          size: entry.data.length,
          sha256: sha256(entry.data),
          payload: entry.data,
          linkTarget: entry.data.toString(),
        });
      case "buffer":
        return entry.batch ? this.writeBatchedFile(entry) : this.writeBuffer(entry);
      case "file":
        return isLargeFile(entry.declared) ? this.writeLargeFile(entry) : this.writeBatchedFile(entry);
      case "stream":
        return this.writeStream(entry);
    }
  }

  /** Stops the stream being written, if any. */
  abort(error: Error): void {
    this.failure ??= error;
    this.stopStream?.(error);
    this.activeBlocks?.abort(error);
  }

  private async writeBuffer(entry: PendingBytes): Promise<void> {
    const data = entry.data;
    const level = this.options.level;
    let payload = data;
    let method = METHOD_STORE;
    if (!entry.store && data.length > 0) {
      const { libdeflate } = this.options;
      const deflated =
        data.length > ASYNC_DEFLATE_SIZE ? await deflateRawAsync(data, { level }) : libdeflate ? libdeflateRaw(libdeflate, data, libdeflateLevelFor(data.length, level)) : zlib.deflateRawSync(data, { level });
      if (deflated.length < data.length * (1 - MIN_SAVING)) {
        payload = deflated;
        method = METHOD_DEFLATE;
      }
    }
    await this.writeWhole(entry, { method, crc32: zlib.crc32(data), size: data.length, sha256: sha256(data), payload });
  }

  private writeBatchedFile(file: PendingBatchable): Promise<void> | undefined {
    const job = file.batch!;
    if (!job.value) return job.result.then(() => this.writeBatchedFile(file));
    const result = job.value.file(file.batchIndex!);
    let writing: Promise<void> | undefined;
    if (result.reason !== undefined) {
      this.skipped.push({ name: file.name, reason: result.reason });
    } else {
      const payload = job.value.data.subarray(result.offset, result.offset + result.length);
      writing = this.writeWhole(file, { method: result.method, crc32: result.crc32, size: result.size, sha256: result.sha256, payload });
    }
    file.batch = undefined;
    if (--job.remaining > 0) return writing;
    // The slot goes back to the worker only once every byte was copied out of it.
    if (!writing) {
      this.options.jobs.jobDone(job);
      return undefined;
    }
    return writing.then(() => this.options.jobs.jobDone(job));
  }

  /** An entry whose content and checksums are known before its header is written. */
  private writeWhole(
    entry: PendingData | PendingBatchable,
    content: { method: number; crc32: number; size: number; sha256: Uint8Array; payload: Uint8Array; linkTarget?: string },
  ): Promise<void> | undefined {
    const written: WrittenEntry = {
      name: entry.name,
      kind: entry.kind === "directory" || entry.kind === "symlink" ? entry.kind : "file",
      size: content.size,
      compressedSize: content.payload.length,
      method: content.method,
      crc32: content.crc32,
      sha256: content.sha256,
      mtime: new Date(entry.mtimeMs),
      mode: entry.mode,
      linkTarget: content.linkTarget,
    };
    this.tally.entryWritten(written.size);
    return this.records.writeWhole(written, content.payload);
  }

  /**
   * A file too large to read whole: read here in order and deflated in blocks on the workers, so one
   * file keeps every core busy. Whether it is deflated is decided from a sample of its first chunk.
   */
  private async writeLargeFile(file: PendingFile): Promise<void> {
    const chunks = FileChunks.open(file.path, (this.readBuffer ??= Buffer.allocUnsafeSlow(CHUNK_SIZE)));
    if (!(chunks instanceof FileChunks)) {
      this.skipped.push({ name: file.name, reason: chunks.reason });
      return;
    }
    try {
      let first: Buffer | undefined;
      try {
        first = await chunks.next();
      } catch (error) {
        this.skipped.push({ name: file.name, reason: (error as Error).message });
        return;
      }
      const method = !first || file.store || !deflateSaves(first.subarray(0, SAMPLE_SIZE)) ? METHOD_STORE : METHOD_DEFLATE;
      const read = async (): Promise<Buffer | undefined> => {
        if (this.failure) throw this.failure;
        if (first) {
          const chunk = first;
          first = undefined;
          return chunk;
        }
        try {
          return await chunks.next();
        } catch (error) {
          throw new Error(`Archiving failed while reading ${file.name}: ${(error as Error).message}`);
        }
      };
      // Each chunk is copied into the output or the deflater before the next read reuses the buffer.
      await this.writePieces(file, method, read, 0);
    } finally {
      chunks.close();
    }
  }

  /**
   * A stream of unknown length: up to `smallStreamLimit` bytes are read first; a stream that ends
   * by then is deflated in one piece here, a longer one in blocks on the workers.
   */
  private async writeStream(stream: PendingStream): Promise<void> {
    const iterator = stream.source[Symbol.asyncIterator]();
    let ended = false;
    let size = 0;
    /** The next piece of the source, checked against the limit; undefined at its end. */
    const read = async (): Promise<Buffer | undefined> => {
      if (this.failure) throw this.failure;
      // A promise per read that `abort` can reject: racing one long-lived promise would keep every piece read.
      const next = await new Promise<IteratorResult<Buffer | Uint8Array | string>>((resolve, reject) => {
        this.stopStream = reject;
        iterator.next().then(resolve, reject);
      });
      this.stopStream = undefined;
      if (next.done) {
        ended = true;
        return undefined;
      }
      const piece = next.value;
      const chunk = typeof piece === "string" ? Buffer.from(piece) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      size += chunk.length;
      this.options.checkLimit(size);
      return chunk;
    };
    let written: ArchiveEntry;
    try {
      written = await this.writePieces(stream, METHOD_DEFLATE, read, this.streamBlocks().smallStreamLimit);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      // Lets the source go (a Readable is destroyed), so whatever feeds it stops too.
      if (!ended) void Promise.resolve().then(() => iterator.return?.()).catch(() => {});
      stream.reject(reason);
      throw reason;
    } finally {
      this.stopStream = undefined;
    }
    stream.resolve(written);
  }

  /**
   * Writes an entry whose bytes arrive in pieces from `read`, checksummed here in order: stored as
   * they come, or deflated. Up to `smallLimit` bytes are read first; content that ends by then is
   * deflated in one piece here, anything longer in blocks on the workers.
   */
  private async writePieces(entry: PendingFile | PendingStream, method: number, read: () => Promise<Buffer | undefined>, smallLimit: number): Promise<ArchiveEntry> {
    const offset = this.records.position;
    await this.records.writeStreamedHeader(entry.name, method, new Date(entry.mtimeMs));
    const hash = createHash("sha256");
    let crc32 = 0;
    let size = 0;
    let compressedSize = 0;
    const emit = async (out: Buffer) => {
      compressedSize += out.length;
      await this.records.writeData(out);
      this.tally.report(false);
      this.options.collection.pace(this.records.position);
    };
    let ended = false;
    const next = async (): Promise<Buffer | undefined> => {
      const chunk = await read();
      if (!chunk) {
        ended = true;
        return undefined;
      }
      crc32 = zlib.crc32(chunk, crc32);
      hash.update(chunk);
      size += chunk.length;
      this.tally.bytesInCurrent = size;
      return chunk;
    };
    try {
      if (method === METHOD_STORE) {
        for (let chunk = await next(); chunk; chunk = await next()) await emit(chunk);
      } else {
        const head: Buffer[] = [];
        for (let chunk = await next(); chunk; chunk = size < smallLimit ? await next() : undefined) head.push(chunk);
        if (ended) {
          await emit(await deflateRawAsync(Buffer.concat(head), { level: this.options.level }));
        } else {
          const { blockSize, blocksInFlight } = this.streamBlocks();
          this.blockRing ??= new SharedArrayBuffer(blockRingBytes(blockSize, blocksInFlight));
          const deflater = new BlockDeflater({ level: this.options.level, blockSize, blocksInFlight, jobs: this.options.jobs, name: entry.name, ring: this.blockRing }, emit);
          this.activeBlocks = deflater;
          for (const chunk of head.splice(0)) await deflater.write(chunk);
          for (let chunk = await next(); chunk; chunk = await next()) await deflater.write(chunk);
          await deflater.end();
        }
      }
    } finally {
      this.activeBlocks = undefined;
    }
    const written: WrittenEntry = { name: entry.name, kind: "file", size, compressedSize, method, crc32, sha256: hash.digest(), mtime: new Date(entry.mtimeMs), mode: entry.mode };
    const archived = await this.records.writeDescriptor(written, offset);
    this.tally.entryWritten(size);
    return archived;
  }

  private streamBlocks(): StreamBlockOptions {
    return { ...STREAM_BLOCKS, ...this.options.streamBlocks };
  }
}

/** Whether deflate saves enough on `sample` (at its fastest level) for the content to be stored deflated. */
function deflateSaves(sample: Buffer): boolean {
  return saves(zlib.deflateRawSync(sample, { level: 1 }).length, sample.length, MIN_SAVING);
}

function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}
