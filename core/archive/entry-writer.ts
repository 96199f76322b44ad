import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { promisify } from "node:util";
import type { ArchiveTally } from "./archive-tally.js";
import { BlockDeflater } from "./block-deflate.js";
import type { CollectionPacer } from "./collection-pacer.js";
import { isStoredByName, MIN_SAVING } from "./compression-policy.js";
import type { JobScheduler } from "./job-scheduler.js";
import type { PendingData, PendingEntry, PendingFile, PendingStream } from "./pending-entries.js";
import type { SkippedEntry } from "./types.js";
import type { LargeFileJob } from "./worker-jobs.js";
import type { WorkerMessage } from "./worker-pool.js";
import type { WrittenEntry } from "./written-entries.js";
import { METHOD_DEFLATE, METHOD_STORE } from "./zip-format.js";
import type { ZipRecords } from "./zip-records.js";

/** Buffers bigger than this are deflated off the main thread. */
const ASYNC_DEFLATE_SIZE = 64 * 1024;
const EMPTY_SHA256 = createHash("sha256").digest();
/** Closes a deflate stream made of sync-flushed chunks: an empty final block with fixed codes. */
const FINAL_DEFLATE_BLOCK = Buffer.from([0x03, 0x00]);

const deflateRawAsync = promisify(zlib.deflateRaw);

export interface EntryWriterOptions {
  level: number;
  jobs: JobScheduler;
  tally: ArchiveTally;
  collection: CollectionPacer;
  /** Throws (having failed the archive) when `streamed` more bytes would pass the size limit. */
  checkLimit: (streamed: number) => void;
  /** How stream entries are cut into blocks for the workers; smaller values let tests cross block boundaries. */
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
const STREAM_BLOCKS: StreamBlockOptions = { blockSize: 1024 * 1024, smallStreamLimit: 4 * 1024 * 1024, blocksInFlight: 6 };

/**
 * Writes pending entries one at a time, in archive order, each from where its
 * content is: the caller's buffer, a worker's batch, a worker's chunks, or a
 * stream deflated here.
 */
export class EntryWriter {
  readonly skipped: SkippedEntry[] = [];
  private readonly tally: ArchiveTally;
  private failure?: Error;
  private stopStream?: (error: Error) => void;
  private activeBlocks?: BlockDeflater;

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
        return this.writeBuffer(entry);
      case "file":
        return entry.large ? this.writeLargeFile(entry, entry.large) : this.writeBatchedFile(entry);
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

  private async writeBuffer(entry: PendingData): Promise<void> {
    const data = entry.data;
    const level = this.options.level;
    let payload = data;
    let method = METHOD_STORE;
    if (level > 0 && data.length > 0 && !isStoredByName(entry.name)) {
      const deflated = data.length > ASYNC_DEFLATE_SIZE ? await deflateRawAsync(data, { level }) : zlib.deflateRawSync(data, { level });
      if (deflated.length < data.length * (1 - MIN_SAVING)) {
        payload = deflated;
        method = METHOD_DEFLATE;
      }
    }
    await this.writeWhole(entry, { method, crc32: zlib.crc32(data), size: data.length, sha256: sha256(data), payload });
  }

  private writeBatchedFile(file: PendingFile): Promise<void> | undefined {
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
    entry: PendingData | PendingFile,
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
      mtime: entry.mtime,
      mode: entry.mode,
      linkTarget: content.linkTarget,
    };
    this.tally.entryWritten(written.size);
    return this.records.writeWhole(written, content.payload);
  }

  private async writeLargeFile(file: PendingFile, job: LargeFileJob): Promise<void> {
    const offset = this.records.position;
    let headerWritten = false;
    let compressedSize = 0;
    for (;;) {
      const message: WorkerMessage = await job.next();
      if (message.type === "chunk") {
        if (!headerWritten) {
          await this.records.writeStreamedHeader(file.name, message.method as number, file.mtime);
          headerWritten = true;
        }
        const data = job.chunkBytes(message);
        compressedSize += data.length;
        // Copied into the output before the slot is handed back.
        await this.records.writeData(data);
        job.chunkCopied();
        this.tally.bytesInCurrent += message.read as number;
        this.tally.report(false);
        this.options.collection.pace(this.records.position);
        continue;
      }
      if (message.type === "failed") throw new Error(`Archiving failed while reading ${file.name}: ${String(message.message)}`);
      if (message.reason !== undefined) {
        this.skipped.push({ name: file.name, reason: String(message.reason) });
        break;
      }
      const method = message.method as number;
      if (!headerWritten) await this.records.writeStreamedHeader(file.name, method, file.mtime);
      if (message.finalBlock) {
        await this.records.writeData(FINAL_DEFLATE_BLOCK);
        compressedSize += FINAL_DEFLATE_BLOCK.length;
      }
      const entry: WrittenEntry = {
        name: file.name,
        kind: "file",
        size: message.size as number,
        compressedSize,
        method,
        crc32: message.crc32 as number,
        sha256: message.sha256 as Uint8Array,
        mtime: file.mtime,
        mode: file.mode,
      };
      await this.records.writeDescriptor(entry, offset);
      this.tally.entryWritten(entry.size);
      break;
    }
    file.large = undefined;
    this.options.jobs.jobDone(job);
  }

  /**
   * A stream of unknown length: up to `smallStreamLimit` bytes are read first; a stream that ends
   * by then is deflated in one piece here, a longer one in blocks on the workers.
   */
  private async writeStream(stream: PendingStream): Promise<void> {
    const offset = this.records.position;
    await this.records.writeStreamedHeader(stream.name, METHOD_DEFLATE, stream.mtime);
    const hash = createHash("sha256");
    let crc32 = 0;
    let size = 0;
    let compressedSize = 0;
    const emit = async (out: Buffer) => {
      compressedSize += out.length;
      await this.records.writeData(out);
      this.tally.report(false);
    };
    const iterator = stream.source[Symbol.asyncIterator]();
    let ended = false;
    /** The next piece of the source, counted and checked against the limit; undefined at its end. */
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
      crc32 = zlib.crc32(chunk, crc32);
      hash.update(chunk);
      size += chunk.length;
      this.tally.bytesInCurrent = size;
      this.options.checkLimit(size);
      return chunk;
    };
    const { blockSize, smallStreamLimit, blocksInFlight } = { ...STREAM_BLOCKS, ...this.options.streamBlocks };
    try {
      const head: Buffer[] = [];
      for (let chunk = await read(); chunk; chunk = size < smallStreamLimit ? await read() : undefined) head.push(chunk);
      if (ended) {
        await emit(await deflateRawAsync(Buffer.concat(head), { level: this.options.level }));
      } else {
        const deflater = new BlockDeflater({ level: this.options.level, blockSize, blocksInFlight, jobs: this.options.jobs, name: stream.name }, emit);
        this.activeBlocks = deflater;
        for (const chunk of head.splice(0)) await deflater.write(chunk);
        for (let chunk = await read(); chunk; chunk = await read()) await deflater.write(chunk);
        await deflater.end();
      }
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      // Lets the source go (a Readable is destroyed), so whatever feeds it stops too.
      if (!ended) void Promise.resolve().then(() => iterator.return?.()).catch(() => {});
      stream.reject(reason);
      throw reason;
    } finally {
      this.activeBlocks = undefined;
      this.stopStream = undefined;
    }
    const entry: WrittenEntry = { name: stream.name, kind: "file", size, compressedSize, method: METHOD_DEFLATE, crc32, sha256: hash.digest(), mtime: stream.mtime, mode: stream.mode };
    const written = await this.records.writeDescriptor(entry, offset);
    this.tally.entryWritten(entry.size);
    stream.resolve(written);
  }
}

function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}
