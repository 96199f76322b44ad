import { createHash } from "node:crypto";
import { once } from "node:events";
import os from "node:os";
import zlib from "node:zlib";
import { promisify } from "node:util";
import { ArchiveOutput } from "./archive-output.js";
import { CHUNK_SIZE, DEFAULT_LEVEL, isStoredByName, MIN_SAVING, SAMPLE_SIZE, WHOLE_FILE_LIMIT } from "./compression-policy.js";
import { entryName } from "./entry-name.js";
import { WrittenEntries, type WrittenEntry } from "./written-entries.js";
import { ArchiveAbortedError, SizeLimitExceededError } from "./errors.js";
import { collectGarbage, enableGarbageCollection } from "./garbage-collection.js";
import type { ArchiveEntry, ArchiveProgress, ByteSink, EntryList, SkippedEntry } from "./types.js";
import { BatchJob, LargeFileJob } from "./worker-jobs.js";
import { WorkerPool, type WorkerMessage } from "./worker-pool.js";
import {
  centralHeaderSize,
  encodeDataDescriptor,
  encodeEndOfCentralDirectory,
  encodeLocalHeader,
  type HeaderFields,
  localHeaderSize,
  METHOD_DEFLATE,
  METHOD_STORE,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  writeCentralHeader,
  writeLocalHeader,
} from "./zip-format.js";

export { SizeLimitExceededError, ArchiveAbortedError } from "./errors.js";

export interface EntryOptions {
  mtime: Date;
  /** Unix mode; the permission bits are kept, the file-type bits are set from the kind of entry. */
  mode: number;
}

export interface FileEntryOptions extends EntryOptions {
  /** Size seen when the file was listed; decides how it is read. The bytes actually read are archived. */
  size: number;
}

export interface ZipWriterOptions {
  /** Deflate level 0-9; 0 stores everything. Default: {@link DEFAULT_LEVEL}. */
  level?: number;
  /** Worker threads reading and deflating files. Default: `os.availableParallelism()`. */
  workers?: number;
  /** Called at most every 100 ms while writing, and once at the end. */
  onProgress?: (progress: ArchiveProgress) => void;
  /** Fails with {@link SizeLimitExceededError} when the uncompressed total would pass this many bytes. */
  maxBytesIn?: number;
  /** Aborting it has the effect of `abort()`. */
  signal?: AbortSignal;
}

export interface ZipResult {
  /** Entries in archive order. */
  entries: EntryList;
  /** Files added with `addFile` that could not be read when their turn came; they are not in the archive. */
  skipped: SkippedEntry[];
  bytesWritten: number;
}

/** Small files sent to a worker in one message: their output must fit one slot. */
const BATCH_FILES = 128;
const BATCH_BYTES = WHOLE_FILE_LIMIT;
/** Output slots per worker: the results that may wait to be written, and so the memory in flight. */
const SLOTS_PER_WORKER = 6;
/** Room for a chunk that deflate made slightly larger than its input. */
const SLOT_SIZE = CHUNK_SIZE + 64 * 1024;
/** Slots a large file cycles through: chunks it may produce ahead of the writer. */
const LARGE_FILE_SLOTS = 3;
/** Buffers bigger than this are deflated off the main thread. */
const ASYNC_DEFLATE_SIZE = 64 * 1024;
const PROGRESS_INTERVAL_MS = 100;
/** Output bytes between young-generation collections on the main thread (see garbage-collection.ts). */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
const EMPTY_SHA256 = createHash("sha256").digest();
/** Closes a deflate stream made of sync-flushed chunks: an empty final block with fixed codes. */
const FINAL_DEFLATE_BLOCK = Buffer.from([0x03, 0x00]);

const deflateRawAsync = promisify(zlib.deflateRaw);

interface UnitBase {
  name: string;
  mtime: Date;
  mode: number;
  /** Uncompressed bytes expected when the entry was added (counted against the size limit until written). */
  declared: number;
}
interface DataUnit extends UnitBase {
  kind: "directory" | "symlink" | "buffer";
  data: Buffer;
}
interface FileUnit extends UnitBase {
  kind: "file";
  path: string;
  store: boolean;
  batch?: BatchJob;
  batchIndex?: number;
  large?: LargeFileJob;
}
interface StreamUnit extends UnitBase {
  kind: "stream";
  source: AsyncIterable<Buffer | Uint8Array | string>;
  resolve: (entry: ArchiveEntry) => void;
  reject: (error: Error) => void;
}
type Unit = DataUnit | FileUnit | StreamUnit;

/**
 * Streaming zip writer. Entries are written to the sink in the order they are
 * added; file contents are read, checksummed (CRC-32 and SHA-256) and deflated
 * by a pool of worker threads, many small files per message, large files in
 * chunks, while the main thread only lays out headers and writes. Memory in
 * flight is bounded by a fixed number of batches and chunks, whatever the size
 * of the tree. The archive is Zip64 where needed, with Unix modes, symlinks and
 * extended timestamps that `unzip` and Python's `zipfile` understand.
 */
export class ZipWriter {
  private readonly level: number;
  private readonly output: ArchiveOutput;
  private readonly pool: WorkerPool;
  private units: Array<Unit | undefined> = [];
  /** Next unit to write. */
  private head = 0;
  /** Next unit that may need a worker job. */
  private dispatchPosition = 0;
  private inFlightJobs = 0;
  private readonly activeJobs = new Set<BatchJob | LargeFileJob>();
  private activeDeflate?: zlib.DeflateRaw;
  private readonly written = new WrittenEntries();
  private readonly skipped: SkippedEntry[] = [];
  private files = 0;
  private bytesIn = 0;
  /** Uncompressed bytes of the large file or stream being written, for progress. */
  private bytesInCurrent = 0;
  private declaredPending = 0;
  private lastProgress = 0;
  private collectedAt = 0;
  private pumpScheduled = false;
  private finishing = false;
  private failure?: Error;
  private wakeLoop?: () => void;
  private roomWaiter?: { limit: number; resolve: () => void };
  private readonly loop: Promise<void>;
  private readonly removeAbortListener?: () => void;

  constructor(
    sink: ByteSink,
    private readonly options: ZipWriterOptions = {},
  ) {
    const level = options.level ?? DEFAULT_LEVEL;
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`The deflate level must be an integer from 0 to 9, not ${level}.`);
    this.level = level;
    const workers = Math.max(1, Math.floor(options.workers ?? os.availableParallelism()));
    this.output = new ArchiveOutput(sink);
    // Before the workers start, so they can collect too.
    enableGarbageCollection();
    this.pool = new WorkerPool({
      size: workers,
      slotsPerWorker: SLOTS_PER_WORKER,
      slotSize: SLOT_SIZE,
      workerData: { minSaving: MIN_SAVING, sampleSize: SAMPLE_SIZE },
      onFatal: (error) => this.fail(error),
    });
    // A failed write (the sink, a worker) also settles every pending stream and stops the workers.
    this.loop = this.run().catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.fail(failure);
      throw failure;
    });
    this.loop.catch(() => {});
    const signal = options.signal;
    if (signal) {
      const onAbort = () => this.fail(new ArchiveAbortedError(signal.reason));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        this.removeAbortListener = () => signal.removeEventListener("abort", onAbort);
      }
    }
  }

  addDirectory(name: string, options: EntryOptions): void {
    this.add({ kind: "directory", name: entryName(name, "directory"), mtime: options.mtime, mode: S_IFDIR | (options.mode & 0o7777), declared: 0, data: Buffer.alloc(0) });
  }

  /** Stores the link itself (its target text), never what it points to. */
  addSymlink(name: string, target: string, options: EntryOptions): void {
    const data = Buffer.from(target);
    this.add({ kind: "symlink", name: entryName(name, "symlink"), mtime: options.mtime, mode: S_IFLNK | (options.mode & 0o7777), declared: data.length, data });
  }

  addBuffer(name: string, data: Buffer, options: EntryOptions): void {
    this.add({ kind: "buffer", name: entryName(name, "file"), mtime: options.mtime, mode: S_IFREG | (options.mode & 0o7777), declared: data.length, data });
  }

  /**
   * Queues a file; it is read later by a worker. A file that cannot be read then
   * (gone, no permission, no longer a regular file) is left out and reported in
   * `skipped`; one that changed size is archived as read.
   */
  addFile(name: string, absolutePath: string, options: FileEntryOptions): void {
    const checked = entryName(name, "file");
    this.add({
      kind: "file",
      name: checked,
      path: absolutePath,
      mtime: options.mtime,
      mode: S_IFREG | (options.mode & 0o7777),
      declared: Math.max(0, options.size),
      store: this.level === 0 || isStoredByName(checked),
    });
  }

  /**
   * Adds an entry of unknown length (a database dump): deflated as it streams,
   * with memory bounded and no temp file. The source is read when the entry's
   * turn comes; the promise settles when the entry is fully written.
   */
  addStream(name: string, source: AsyncIterable<Buffer | Uint8Array | string>, options: EntryOptions): Promise<ArchiveEntry> {
    let settle!: Pick<StreamUnit, "resolve" | "reject">;
    const written = new Promise<ArchiveEntry>((resolve, reject) => (settle = { resolve, reject }));
    // The same failure also rejects finish(); a caller that does not await this promise must not crash the process.
    written.catch(() => {});
    try {
      this.add({ kind: "stream", name: entryName(name, "file"), source, mtime: options.mtime, mode: S_IFREG | (options.mode & 0o7777), declared: 0, ...settle });
    } catch (error) {
      return Promise.reject(error);
    }
    return written;
  }

  /** Entries added and not yet written. */
  get queued(): number {
    return this.units.length - this.head;
  }

  /**
   * Resolves once at most `limit` entries wait to be written (or the writer
   * failed, which the next add reports). A caller adding a whole tree waits on
   * this now and then, so the entries held in memory follow a window of the
   * tree, not all of it.
   */
  whenQueuedAtMost(limit: number): Promise<void> {
    if (this.failure || this.queued <= limit) return Promise.resolve();
    this.roomWaiter?.resolve();
    return new Promise<void>((resolve) => (this.roomWaiter = { limit, resolve }));
  }

  private wakeRoomWaiter(): void {
    const waiter = this.roomWaiter;
    if (waiter && (this.failure || this.queued <= waiter.limit)) {
      this.roomWaiter = undefined;
      waiter.resolve();
    }
  }

  /** Writes the central directory after every entry; resolves once the last byte is handed to the sink. */
  async finish(): Promise<ZipResult> {
    if (this.finishing) throw new Error("finish() was already called on this zip writer.");
    this.finishing = true;
    this.pump();
    this.wakeLoop?.();
    try {
      await this.loop;
    } finally {
      this.removeAbortListener?.();
      await this.pool.close();
    }
    this.reportProgress(true);
    this.units = [];
    return { entries: this.written, skipped: this.skipped, bytesWritten: this.output.position };
  }

  /** Stops reading and writing and terminates the workers; the archive is left incomplete. */
  async abort(): Promise<void> {
    this.fail(new ArchiveAbortedError());
    this.removeAbortListener?.();
    await this.pool.close();
  }

  private add(unit: Unit): void {
    if (this.failure) throw this.failure;
    if (this.finishing) throw new Error(`Cannot add "${unit.name}": finish() was already called on this zip writer.`);
    this.declaredPending += unit.declared;
    this.checkLimit(0);
    this.units.push(unit);
    // Start full batches right away, so workers run while the caller is still walking the tree.
    if (this.units.length - this.dispatchPosition >= 2 * BATCH_FILES) this.pump();
    else this.schedulePump();
    this.wakeLoop?.();
  }

  private checkLimit(extra: number): void {
    const limit = this.options.maxBytesIn;
    if (limit === undefined) return;
    const seen = this.bytesIn + this.declaredPending + extra;
    if (seen > limit) {
      const error = new SizeLimitExceededError(limit, seen);
      this.fail(error);
      throw error;
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const job of this.activeJobs) job.abort(error);
    this.activeJobs.clear();
    this.activeDeflate?.destroy(error);
    for (let i = this.head; i < this.units.length; i++) {
      const unit = this.units[i];
      if (unit?.kind === "stream") unit.reject(error);
    }
    this.wakeLoop?.();
    this.wakeRoomWaiter();
    void this.pool.close();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the caller's synchronous run of adds, so batches fill up.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * Starts worker jobs in archive order while a worker has free output slots.
   * Results wait in their slots until written, so the slots bound the memory in
   * flight and are the slack that keeps workers busy while the entry at the
   * head is still being produced.
   */
  private pump(): void {
    // The writer may already have written (and released) units that needed no worker.
    if (this.dispatchPosition < this.head) this.dispatchPosition = this.head;
    while (!this.failure && this.dispatchPosition < this.units.length) {
      const unit = this.units[this.dispatchPosition]!;
      if (unit.kind !== "file") {
        this.dispatchPosition++;
        continue;
      }
      if (!this.pool.canSubmit(unit.declared > WHOLE_FILE_LIMIT ? LARGE_FILE_SLOTS : 1)) return;
      if (unit.declared > WHOLE_FILE_LIMIT) {
        if (!this.startLargeFile(unit)) return;
        this.dispatchPosition++;
        continue;
      }
      // Entries that need no worker (directories, links) do not split a batch.
      const files: FileUnit[] = [];
      let end = this.dispatchPosition;
      let bytes = 0;
      while (end < this.units.length && files.length < BATCH_FILES) {
        const next = this.units[end]!;
        if (next.kind === "file") {
          if (next.declared > WHOLE_FILE_LIMIT || (bytes > 0 && bytes + next.declared > BATCH_BYTES)) break;
          files.push(next);
          bytes += next.declared;
        }
        end++;
      }
      // A batch cut short only by the end of what was added so far may still grow; while
      // workers are busy and the writer is not waiting for it, let more files join.
      const mayGrow = end === this.units.length && !this.finishing;
      if (mayGrow && this.inFlightJobs > 0 && this.head < this.dispatchPosition) return;
      if (!this.startBatch(files)) return;
      this.dispatchPosition = end;
    }
  }

  private startBatch(files: FileUnit[]): boolean {
    const job = new BatchJob(files.length);
    // One string each: far cheaper to pass between threads than an object per file.
    const request = { type: "batch" as const, level: this.level, paths: files.map((f) => f.path).join("\0"), store: files.map((f) => (f.store ? "1" : "0")).join("") };
    const ticket = this.pool.submit(request, 1, (message) => {
      job.receive(message, (m) => this.pool.bytes(ticket!, m));
      if (message.type === "failed") this.fail(new Error(`Archiving failed while reading files: ${String(message.message)}`));
    });
    if (!ticket) return false;
    job.ticket = ticket;
    files.forEach((file, index) => {
      file.batch = job;
      file.batchIndex = index;
    });
    this.jobStarted(job);
    return true;
  }

  private startLargeFile(file: FileUnit): boolean {
    const job = new LargeFileJob();
    const request = { type: "large" as const, level: this.level, path: file.path, store: file.store, chunkSize: CHUNK_SIZE };
    const ticket = this.pool.submit(request, LARGE_FILE_SLOTS, (message) => {
      job.receive(message);
      if (message.type === "failed") this.fail(new Error(`Archiving failed while reading ${file.name}: ${String(message.message)}`));
    });
    if (!ticket) return false;
    job.ticket = ticket;
    file.large = job;
    this.jobStarted(job);
    return true;
  }

  private jobStarted(job: BatchJob | LargeFileJob): void {
    this.activeJobs.add(job);
    this.inFlightJobs++;
  }

  /** After the job's last bytes were copied to the output: its slots go back to its worker. */
  private jobDone(job: BatchJob | LargeFileJob): void {
    this.activeJobs.delete(job);
    this.inFlightJobs--;
    if (job.ticket) this.pool.release(job.ticket);
    this.pump();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.head === this.units.length) {
        if (this.finishing) break;
        await new Promise<void>((resolve) => (this.wakeLoop = resolve));
        this.wakeLoop = undefined;
        continue;
      }
      const unit = this.units[this.head]!;
      if (unit.kind === "file" && !unit.batch && !unit.large) {
        this.pump();
        if (!unit.batch && !unit.large) throw new Error(`Internal error: no worker job was started for ${unit.name}.`);
      }
      const writing = this.writeUnit(unit);
      if (writing) await writing;
      if (this.failure) throw this.failure;
      this.declaredPending -= unit.declared;
      this.units[this.head++] = undefined;
      this.wakeRoomWaiter();
      if (unit.kind === "file") this.files++;
      this.checkLimit(0);
      this.reportProgress(false);
      this.collectGarbageEvery();
      this.compactUnits();
    }
    await this.writeCentralDirectory();
  }

  /** Drops written units from the front of the queue so memory follows what is pending, not what was done. */
  private compactUnits(): void {
    if (this.head < 4096 || this.head * 2 < this.units.length) return;
    this.units = this.units.slice(this.head);
    this.dispatchPosition = Math.max(0, this.dispatchPosition - this.head);
    this.head = 0;
  }

  /** Returns a promise only when the entry could not be written at once. */
  private writeUnit(unit: Unit): Promise<void> | undefined {
    switch (unit.kind) {
      case "directory":
        return this.writeComplete(unit, { method: METHOD_STORE, crc32: 0, size: 0, sha256: EMPTY_SHA256, payload: unit.data });
      case "symlink":
        return this.writeComplete(unit, {
          method: METHOD_STORE,
          crc32: zlib.crc32(unit.data),
          size: unit.data.length,
          sha256: sha256(unit.data),
          payload: unit.data,
          linkTarget: unit.data.toString(),
        });
      case "buffer":
        return this.writeBuffer(unit);
      case "file":
        return unit.large ? this.writeLargeFile(unit, unit.large) : this.writeBatchedFile(unit);
      case "stream":
        return this.writeStream(unit);
    }
  }

  private async writeBuffer(unit: DataUnit): Promise<void> {
    const data = unit.data;
    let payload = data;
    let method = METHOD_STORE;
    if (this.level > 0 && data.length > 0 && !isStoredByName(unit.name)) {
      const deflated = data.length > ASYNC_DEFLATE_SIZE ? await deflateRawAsync(data, { level: this.level }) : zlib.deflateRawSync(data, { level: this.level });
      if (deflated.length < data.length * (1 - MIN_SAVING)) {
        payload = deflated;
        method = METHOD_DEFLATE;
      }
    }
    await this.writeComplete(unit, { method, crc32: zlib.crc32(data), size: data.length, sha256: sha256(data), payload });
  }

  private writeBatchedFile(unit: FileUnit): Promise<void> | undefined {
    const job = unit.batch!;
    if (!job.value) return job.result.then(() => this.writeBatchedFile(unit));
    const result = job.value.file(unit.batchIndex!);
    let writing: Promise<void> | undefined;
    if (result.reason !== undefined) {
      this.skipped.push({ name: unit.name, reason: result.reason });
    } else {
      const payload = job.value.data.subarray(result.offset, result.offset + result.length);
      writing = this.writeComplete(unit, { method: result.method, crc32: result.crc32, size: result.size, sha256: result.sha256, payload });
    }
    unit.batch = undefined;
    if (--job.remaining > 0) return writing;
    // The slot goes back to the worker only once every byte was copied out of it.
    if (!writing) {
      this.jobDone(job);
      return undefined;
    }
    return writing.then(() => this.jobDone(job));
  }

  /** An entry whose content and checksums are known before its header is written. */
  private writeComplete(
    unit: UnitBase & { kind: ArchiveEntry["kind"] | "buffer" | "file" },
    content: { method: number; crc32: number; size: number; sha256: Uint8Array; payload: Uint8Array; linkTarget?: string },
  ): Promise<void> | undefined {
    const offset = this.output.position;
    const compressedSize = content.payload.length;
    const header: HeaderFields = { name: unit.name, method: content.method, crc32: content.crc32, compressedSize, size: content.size, mtime: unit.mtime, streamed: false };
    this.record(
      {
        name: unit.name,
        kind: unit.kind === "directory" || unit.kind === "symlink" ? unit.kind : "file",
        size: content.size,
        compressedSize,
        method: content.method,
        crc32: content.crc32,
        sha256: content.sha256,
        mtime: unit.mtime,
        mode: unit.mode,
        linkTarget: content.linkTarget,
      },
      offset,
      false,
    );
    const writingHeader = this.output.writeEncoded(localHeaderSize(header), writeLocalHeader, header);
    if (writingHeader) return writingHeader.then(() => this.output.write(content.payload));
    return this.output.write(content.payload);
  }

  private async writeLargeFile(unit: FileUnit, job: LargeFileJob): Promise<void> {
    const offset = this.output.position;
    let headerWritten = false;
    let compressedSize = 0;
    const writeHeader = (method: number) =>
      this.output.write(encodeLocalHeader({ name: unit.name, method, crc32: 0, compressedSize: 0, size: 0, mtime: unit.mtime, streamed: true }));
    for (;;) {
      const message: WorkerMessage = await job.next();
      if (message.type === "chunk") {
        if (!headerWritten) {
          await writeHeader(message.method as number);
          headerWritten = true;
        }
        const data = this.pool.bytes(job.ticket!, message);
        compressedSize += data.length;
        // Copied into the output before the slot is handed back.
        await this.output.write(data);
        this.pool.credit(job.ticket!);
        this.bytesInCurrent += message.read as number;
        this.reportProgress(false);
        this.collectGarbageEvery();
        continue;
      }
      if (message.type === "failed") throw new Error(`Archiving failed while reading ${unit.name}: ${String(message.message)}`);
      if (message.reason !== undefined) {
        this.skipped.push({ name: unit.name, reason: String(message.reason) });
        break;
      }
      const method = message.method as number;
      if (!headerWritten) await writeHeader(method);
      if (message.finalBlock) {
        await this.output.write(FINAL_DEFLATE_BLOCK);
        compressedSize += FINAL_DEFLATE_BLOCK.length;
      }
      const size = message.size as number;
      const crc32 = message.crc32 as number;
      await this.output.write(encodeDataDescriptor(crc32, compressedSize, size));
      this.record(
        { name: unit.name, kind: "file", size, compressedSize, method, crc32, sha256: message.sha256 as Uint8Array, mtime: unit.mtime, mode: unit.mode },
        offset,
        true,
      );
      break;
    }
    unit.large = undefined;
    this.jobDone(job);
  }

  private async writeStream(unit: StreamUnit): Promise<void> {
    const offset = this.output.position;
    await this.output.write(encodeLocalHeader({ name: unit.name, method: METHOD_DEFLATE, crc32: 0, compressedSize: 0, size: 0, mtime: unit.mtime, streamed: true }));
    const deflate = zlib.createDeflateRaw({ level: this.level });
    this.activeDeflate = deflate;
    const hash = createHash("sha256");
    let crc32 = 0;
    let size = 0;
    let compressedSize = 0;
    const feeding = (async () => {
      for await (const piece of unit.source) {
        const chunk = typeof piece === "string" ? Buffer.from(piece) : piece;
        crc32 = zlib.crc32(chunk, crc32);
        hash.update(chunk);
        size += chunk.length;
        this.bytesInCurrent = size;
        this.checkLimit(size);
        if (!deflate.write(chunk)) await once(deflate, "drain");
      }
      deflate.end();
    })();
    feeding.catch((error: Error) => deflate.destroy(error));
    try {
      for await (const out of deflate as AsyncIterable<Buffer>) {
        compressedSize += out.length;
        await this.output.write(out);
        this.reportProgress(false);
      }
      await feeding;
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      unit.reject(reason);
      throw reason;
    } finally {
      this.activeDeflate = undefined;
    }
    await this.output.write(encodeDataDescriptor(crc32, compressedSize, size));
    const index = this.record(
      { name: unit.name, kind: "file", size, compressedSize, method: METHOD_DEFLATE, crc32, sha256: hash.digest(), mtime: unit.mtime, mode: unit.mode },
      offset,
      true,
    );
    unit.resolve(this.written.at(index));
  }

  private record(entry: WrittenEntry, offset: number, streamed: boolean): number {
    this.bytesIn += entry.size;
    this.bytesInCurrent = 0;
    return this.written.add(entry, offset, streamed);
  }

  private async writeCentralDirectory(): Promise<void> {
    const start = this.output.position;
    for (let i = 0; i < this.written.length; i++) {
      const fields = this.written.central(i);
      const writing = this.output.writeEncoded(centralHeaderSize(fields), writeCentralHeader, fields);
      if (writing) await writing;
    }
    const size = this.output.position - start;
    await this.output.write(encodeEndOfCentralDirectory(this.written.length, start, size));
    await this.output.flush();
  }

  private collectGarbageEvery(): void {
    if (this.output.position - this.collectedAt < COLLECT_EVERY_BYTES) return;
    this.collectedAt = this.output.position;
    collectGarbage("minor");
  }

  private reportProgress(force: boolean): void {
    const onProgress = this.options.onProgress;
    if (!onProgress) return;
    const now = performance.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    onProgress({ files: this.files, bytesIn: this.bytesIn + this.bytesInCurrent, bytesOut: this.output.position });
  }
}

function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}
