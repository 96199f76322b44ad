import { createHash } from "node:crypto";
import { once } from "node:events";
import os from "node:os";
import zlib from "node:zlib";
import { promisify } from "node:util";
import { ArchiveOutput } from "./archive-output.js";
import { CHUNK_SIZE, DEFAULT_LEVEL, isStoredByName, MIN_SAVING, SAMPLE_SIZE, WHOLE_FILE_LIMIT } from "./compression-policy.js";
import { entryName } from "./entry-name.js";
import { ArchiveAbortedError, SizeLimitExceededError } from "./errors.js";
import { collectGarbage, enableGarbageCollection } from "./garbage-collection.js";
import type { ArchiveEntry, ArchiveProgress, ByteSink, SkippedEntry } from "./types.js";
import { BatchJob, LargeFileJob } from "./worker-jobs.js";
import { WorkerPool, type WorkerMessage } from "./worker-pool.js";
import {
  encodeCentralHeader,
  encodeDataDescriptor,
  encodeEndOfCentralDirectory,
  encodeLocalHeader,
  METHOD_DEFLATE,
  METHOD_STORE,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
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
  entries: ArchiveEntry[];
  /** Files added with `addFile` that could not be read when their turn came; they are not in the archive. */
  skipped: SkippedEntry[];
  bytesWritten: number;
}

/** Small files sent to a worker in one message. */
const BATCH_FILES = 256;
const BATCH_BYTES = 2 * 1024 * 1024;
/** Large-file chunks a worker may send ahead of the writer. */
const LARGE_FILE_CREDITS = 4;
/** Buffers bigger than this are deflated off the main thread. */
const ASYNC_DEFLATE_SIZE = 64 * 1024;
const PROGRESS_INTERVAL_MS = 100;
/** Output bytes between young-generation collections on the main thread (see garbage-collection.ts). */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
const EMPTY_SHA256 = createHash("sha256").digest("hex");

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

interface CentralRecord {
  entry: ArchiveEntry;
  offset: number;
  streamed: boolean;
}

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
  private readonly maxInFlight: number;
  private units: Array<Unit | undefined> = [];
  /** Next unit to write. */
  private head = 0;
  /** Next unit that may need a worker job. */
  private dispatchPosition = 0;
  private inFlight = 0;
  private readonly activeJobs = new Set<BatchJob | LargeFileJob>();
  private activeDeflate?: zlib.DeflateRaw;
  private readonly records: CentralRecord[] = [];
  private readonly skipped: SkippedEntry[] = [];
  private files = 0;
  private bytesIn = 0;
  private declaredPending = 0;
  private lastProgress = 0;
  private collectedAt = 0;
  private pumpScheduled = false;
  private finishing = false;
  private failure?: Error;
  private wakeLoop?: () => void;
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
    this.maxInFlight = workers * 4;
    this.output = new ArchiveOutput(sink);
    // Before the workers start, so they can collect too.
    enableGarbageCollection();
    this.pool = new WorkerPool(workers, { minSaving: MIN_SAVING, sampleSize: SAMPLE_SIZE }, (error) => this.fail(error));
    this.loop = this.run();
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
    this.add({ kind: "stream", name: entryName(name, "file"), source, mtime: options.mtime, mode: S_IFREG | (options.mode & 0o7777), declared: 0, ...settle });
    return written;
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
    return { entries: this.records.map((r) => r.entry), skipped: this.skipped, bytesWritten: this.output.position };
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

  /** Starts worker jobs in archive order while fewer than `maxInFlight` are unwritten. */
  private pump(): void {
    // The writer may already have written (and released) units that needed no worker.
    if (this.dispatchPosition < this.head) this.dispatchPosition = this.head;
    while (!this.failure && this.inFlight < this.maxInFlight && this.dispatchPosition < this.units.length) {
      const unit = this.units[this.dispatchPosition]!;
      if (unit.kind !== "file") {
        this.dispatchPosition++;
        continue;
      }
      if (unit.declared > WHOLE_FILE_LIMIT) {
        this.startLargeFile(unit);
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
      if (mayGrow && this.inFlight > 0 && this.head < this.dispatchPosition) return;
      this.startBatch(files);
      this.dispatchPosition = end;
    }
  }

  private startBatch(files: FileUnit[]): void {
    const job = new BatchJob(files.length);
    files.forEach((file, index) => {
      file.batch = job;
      file.batchIndex = index;
    });
    this.inFlight++;
    this.activeJobs.add(job);
    const expectedBytes = files.reduce((sum, f) => sum + f.declared, 0);
    const request = { type: "batch" as const, level: this.level, expectedBytes, files: files.map((f) => ({ path: f.path, store: f.store })) };
    this.pool.submit(request, (message) => {
      job.receive(message);
      if (message.type === "failed") this.fail(new Error(`Archiving failed while reading files: ${String(message.message)}`));
    });
  }

  private startLargeFile(file: FileUnit): void {
    const job = new LargeFileJob();
    file.large = job;
    this.inFlight++;
    this.activeJobs.add(job);
    job.id = this.pool.submit(
      { type: "large", level: this.level, path: file.path, store: file.store, chunkSize: CHUNK_SIZE, credits: LARGE_FILE_CREDITS },
      (message) => {
        job.receive(message);
        if (message.type === "failed") this.fail(new Error(`Archiving failed while reading ${file.name}: ${String(message.message)}`));
      },
    );
  }

  private jobDone(job: BatchJob | LargeFileJob): void {
    this.activeJobs.delete(job);
    this.inFlight--;
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
      await this.writeUnit(unit);
      if (this.failure) throw this.failure;
      this.declaredPending -= unit.declared;
      this.units[this.head++] = undefined;
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
    this.dispatchPosition -= this.head;
    this.head = 0;
  }

  private async writeUnit(unit: Unit): Promise<void> {
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

  private async writeBatchedFile(unit: FileUnit): Promise<void> {
    const job = unit.batch!;
    const { results, data, offsets } = await job.result;
    const index = unit.batchIndex!;
    const result = results[index]!;
    if (result.reason !== undefined) {
      this.skipped.push({ name: unit.name, reason: result.reason });
    } else {
      const payload = data.subarray(offsets[index]!, offsets[index]! + result.length);
      await this.writeComplete(unit, { method: result.method, crc32: result.crc32, size: result.size, sha256: result.sha256, payload });
    }
    unit.batch = undefined;
    if (--job.remaining === 0) this.jobDone(job);
  }

  /** An entry whose content and checksums are known before its header is written. */
  private async writeComplete(
    unit: UnitBase & { kind: ArchiveEntry["kind"] | "buffer" | "file" },
    content: { method: number; crc32: number; size: number; sha256: string; payload: Uint8Array; linkTarget?: string },
  ): Promise<void> {
    const offset = this.output.position;
    const nameBytes = Buffer.from(unit.name);
    const compressedSize = content.payload.length;
    await this.output.write(
      encodeLocalHeader({ nameBytes, method: content.method, crc32: content.crc32, compressedSize, size: content.size, mtime: unit.mtime, streamed: false }),
    );
    if (compressedSize > 0) await this.output.write(content.payload);
    const entry: ArchiveEntry = {
      name: unit.name,
      kind: unit.kind === "directory" || unit.kind === "symlink" ? unit.kind : "file",
      size: content.size,
      compressedSize,
      method: content.method === METHOD_DEFLATE ? "deflate" : "store",
      crc32: content.crc32,
      sha256: content.sha256,
      mtime: unit.mtime,
      mode: unit.mode,
    };
    if (content.linkTarget !== undefined) entry.linkTarget = content.linkTarget;
    this.record(entry, offset, false);
  }

  private async writeLargeFile(unit: FileUnit, job: LargeFileJob): Promise<void> {
    const nameBytes = Buffer.from(unit.name);
    const offset = this.output.position;
    let headerWritten = false;
    let compressedSize = 0;
    const writeHeader = (method: number) =>
      this.output.write(encodeLocalHeader({ nameBytes, method, crc32: 0, compressedSize: 0, size: 0, mtime: unit.mtime, streamed: true }));
    for (;;) {
      const message: WorkerMessage = await job.next();
      if (message.type === "chunk") {
        if (!headerWritten) {
          await writeHeader(message.method as number);
          headerWritten = true;
        }
        const data = Buffer.from(message.data as ArrayBuffer);
        compressedSize += data.length;
        await this.output.write(data);
        this.pool.credit(job.id);
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
      const tail = Buffer.from(message.tail as ArrayBuffer);
      if (tail.length > 0) await this.output.write(tail);
      compressedSize += tail.length;
      const size = message.size as number;
      const crc32 = message.crc32 as number;
      await this.output.write(encodeDataDescriptor(crc32, compressedSize, size));
      this.record(
        {
          name: unit.name,
          kind: "file",
          size,
          compressedSize,
          method: method === METHOD_DEFLATE ? "deflate" : "store",
          crc32,
          sha256: message.sha256 as string,
          mtime: unit.mtime,
          mode: unit.mode,
        },
        offset,
        true,
      );
      break;
    }
    unit.large = undefined;
    this.jobDone(job);
  }

  private async writeStream(unit: StreamUnit): Promise<void> {
    const nameBytes = Buffer.from(unit.name);
    const offset = this.output.position;
    await this.output.write(encodeLocalHeader({ nameBytes, method: METHOD_DEFLATE, crc32: 0, compressedSize: 0, size: 0, mtime: unit.mtime, streamed: true }));
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
    const entry: ArchiveEntry = {
      name: unit.name,
      kind: "file",
      size,
      compressedSize,
      method: "deflate",
      crc32,
      sha256: hash.digest("hex"),
      mtime: unit.mtime,
      mode: unit.mode,
    };
    this.record(entry, offset, true);
    unit.resolve(entry);
  }

  private record(entry: ArchiveEntry, offset: number, streamed: boolean): void {
    this.records.push({ entry, offset, streamed });
    this.bytesIn += entry.size;
  }

  private async writeCentralDirectory(): Promise<void> {
    const start = this.output.position;
    for (const { entry, offset, streamed } of this.records) {
      await this.output.write(
        encodeCentralHeader({
          nameBytes: Buffer.from(entry.name),
          method: entry.method === "deflate" ? METHOD_DEFLATE : METHOD_STORE,
          crc32: entry.crc32,
          compressedSize: entry.compressedSize,
          size: entry.size,
          mtime: entry.mtime,
          mode: entry.mode,
          localHeaderOffset: offset,
          streamed,
        }),
      );
    }
    const size = this.output.position - start;
    await this.output.write(encodeEndOfCentralDirectory(this.records.length, start, size));
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
    onProgress({ files: this.files, bytesIn: this.bytesIn, bytesOut: this.output.position });
  }
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
