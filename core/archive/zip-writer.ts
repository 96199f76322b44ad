import os from "node:os";
import type { RecordSpoolOptions } from "../spool/record-spool.js";
import { ArchiveOutput } from "./archive-output.js";
import { ArchiveTally } from "./archive-tally.js";
import { CollectionPacer } from "./collection-pacer.js";
import { DEFAULT_LEVEL, isStoredByName } from "./compression-policy.js";
import { deflateEngine, type DeflateEngine } from "./deflate-engine.js";
import { entryName } from "./entry-name.js";
import { EntryWriter, type StreamBlockOptions } from "./entry-writer.js";
import { ArchiveAbortedError, SizeLimitExceededError } from "./errors.js";
import { JobScheduler } from "./job-scheduler.js";
import { MallocTrimmer } from "./native-memory.js";
import { PendingEntries, type PendingEntry, type PendingStream } from "./pending-entries.js";
import type { ArchiveEntry, ArchiveProgress, ByteSink, SkippedEntry } from "./types.js";
import type { WrittenEntries } from "./written-entries.js";
import { S_IFDIR, S_IFLNK, S_IFREG } from "./zip-format.js";
import { ZipRecords } from "./zip-records.js";

export { SizeLimitExceededError, ArchiveAbortedError } from "./errors.js";

/** Output bytes between young-generation collections on the main thread (see garbage-collection.ts). */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
/** malloc's free pages are handed back this often, after a full collection: at 8 MiB a 4 GB backup peaked no lower than at 64. */
const TRIM_EVERY_BYTES = 64 * 1024 * 1024;

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
  /** What deflates the files read whole (see deflate-engine.ts). Default: the one APP_BACKUP_DEFLATE chooses ("auto" when unset). */
  deflate?: DeflateEngine;
  /** Called at most every 100 ms while writing, and once at the end. */
  onProgress?: (progress: ArchiveProgress) => void;
  /** Fails with {@link SizeLimitExceededError} when the uncompressed total would pass this many bytes. */
  maxBytesIn?: number;
  /** Aborting it has the effect of `abort()`. */
  signal?: AbortSignal;
  /** Where the record of written entries is kept: in memory up to a threshold, then in a temp file. */
  spool?: RecordSpoolOptions;
  /** How `addStream` entries are cut into blocks deflated on the workers (see entry-writer.ts). */
  streamBlocks?: Partial<StreamBlockOptions>;
}

export interface ZipResult {
  /**
   * Entries in archive order, read back from the writer's spool as often as
   * needed; `entries.close()` lets them go once the caller is done (`abort()` does too).
   */
  entries: WrittenEntries;
  /** Files added with `addFile` that could not be read when their turn came; they are not in the archive. */
  skipped: SkippedEntry[];
  bytesWritten: number;
}

/**
 * Streaming zip writer. Entries are written to the sink in the order they are
 * added; file contents are read, checksummed (CRC-32 and SHA-256) and deflated
 * by a pool of worker threads, many small files per message, large files in
 * chunks, while the main thread only lays out headers and writes. Memory in
 * flight is bounded by a fixed number of batches and chunks, whatever the size
 * of the tree. The archive is Zip64 where needed, with Unix modes, symlinks and
 * extended timestamps that `unzip` and Python's `zipfile` understand.
 *
 * This class is the way entries come in and the archive's life cycle: the
 * job scheduler decides what the workers do, the entry writer takes each
 * entry's content in turn and the zip records lay out its bytes.
 */
export class ZipWriter {
  private readonly level: number;
  private readonly engine: DeflateEngine;
  private readonly output: ArchiveOutput;
  private readonly pending = new PendingEntries();
  private readonly jobs: JobScheduler;
  private readonly records: ZipRecords;
  private readonly entryWriter: EntryWriter;
  private readonly tally: ArchiveTally;
  private readonly collection: CollectionPacer;
  /** Uncompressed bytes of the entries added and not yet written, as declared when added. */
  private declaredPending = 0;
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
    this.engine = options.deflate ?? deflateEngine();
    this.collection = new CollectionPacer(COLLECT_EVERY_BYTES, this.engine.libdeflate && new MallocTrimmer(this.engine.libdeflate, TRIM_EVERY_BYTES));
    this.output = new ArchiveOutput(sink);
    this.jobs = new JobScheduler(this.pending, { level, workers, engine: this.engine, onFailure: (error) => this.fail(error) });
    this.tally = new ArchiveTally(this.output, options.onProgress);
    this.records = new ZipRecords(this.output, options.spool);
    this.entryWriter = new EntryWriter(this.records, { level, libdeflate: this.engine.libdeflate, jobs: this.jobs, tally: this.tally, collection: this.collection, checkLimit: (streamed) => this.checkLimit(streamed), streamBlocks: options.streamBlocks });
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
    this.add({ kind: "directory", name: entryName(name, "directory"), mtimeMs: options.mtime.getTime(), mode: S_IFDIR | (options.mode & 0o7777), declared: 0, data: Buffer.alloc(0) });
  }

  /** Stores the link itself (its target text), never what it points to. */
  addSymlink(name: string, target: string, options: EntryOptions): void {
    const data = Buffer.from(target);
    this.add({ kind: "symlink", name: entryName(name, "symlink"), mtimeMs: options.mtime.getTime(), mode: S_IFLNK | (options.mode & 0o7777), declared: data.length, data });
  }

  /** Adds a file whose bytes the caller holds; they are let go once copied to a worker. */
  addBuffer(name: string, data: Buffer, options: EntryOptions): void {
    const checked = entryName(name, "file");
    this.add({
      kind: "buffer",
      name: checked,
      mtimeMs: options.mtime.getTime(),
      mode: S_IFREG | (options.mode & 0o7777),
      declared: data.length,
      data,
      store: this.storedAsIs(checked),
    });
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
      mtimeMs: options.mtime.getTime(),
      mode: S_IFREG | (options.mode & 0o7777),
      declared: Math.max(0, options.size),
      store: this.storedAsIs(checked),
    });
  }

  /**
   * Adds an entry of unknown length (a database dump): deflated as it streams,
   * with memory bounded and no temp file. The source is read when the entry's
   * turn comes; the promise settles when the entry is fully written.
   */
  addStream(name: string, source: AsyncIterable<Buffer | Uint8Array | string>, options: EntryOptions): Promise<ArchiveEntry> {
    let settle!: Pick<PendingStream, "resolve" | "reject">;
    const written = new Promise<ArchiveEntry>((resolve, reject) => (settle = { resolve, reject }));
    // The same failure also rejects finish(); a caller that does not await this promise must not crash the process.
    written.catch(() => {});
    try {
      this.add({ kind: "stream", name: entryName(name, "file"), source, mtimeMs: options.mtime.getTime(), mode: S_IFREG | (options.mode & 0o7777), declared: 0, ...settle });
    } catch (error) {
      return Promise.reject(error);
    }
    return written;
  }

  /** Whether a file of this name is stored, never deflated: at level 0, or a type already compressed. */
  private storedAsIs(name: string): boolean {
    return this.level === 0 || isStoredByName(name);
  }

  /** Entries added and not yet written. */
  /** How entries are compressed, for a log: the level and what deflates. */
  get compression(): string {
    return `deflate level ${this.level}, by ${this.engine.name}`;
  }

  get queued(): number {
    return this.pending.count;
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
    this.jobs.lastEntryAdded();
    this.wakeLoop?.();
    try {
      await this.loop;
    } catch (error) {
      // A failed archive's entries are of no use to anyone.
      this.records.entries.close();
      throw error;
    } finally {
      this.removeAbortListener?.();
      await this.jobs.close();
    }
    this.tally.report(true);
    this.pending.clear();
    return { entries: this.records.entries, skipped: this.entryWriter.skipped, bytesWritten: this.output.position };
  }

  /** Stops reading and writing and terminates the workers; the archive is left incomplete. */
  async abort(): Promise<void> {
    this.fail(new ArchiveAbortedError());
    this.records.entries.close();
    this.removeAbortListener?.();
    await this.jobs.close();
  }

  private add(entry: PendingEntry): void {
    if (this.failure) throw this.failure;
    if (this.finishing) throw new Error(`Cannot add "${entry.name}": finish() was already called on this zip writer.`);
    this.declaredPending += entry.declared;
    this.checkLimit(0);
    this.pending.push(entry);
    this.jobs.entryAdded();
    this.wakeLoop?.();
  }

  /** `streamed`: bytes read so far from the stream being written, not yet counted elsewhere. */
  private checkLimit(streamed: number): void {
    const limit = this.options.maxBytesIn;
    if (limit === undefined) return;
    const seen = this.tally.bytesIn + this.declaredPending + streamed;
    if (seen > limit) {
      const error = new SizeLimitExceededError(limit, seen);
      this.fail(error);
      throw error;
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.jobs.stop(error);
    this.entryWriter.abort(error);
    for (const stream of this.pending.streams()) stream.reject(error);
    this.wakeLoop?.();
    this.wakeRoomWaiter();
    void this.jobs.close();
  }

  /** Writes pending entries in archive order as they are added, then the central directory. */
  private async run(): Promise<void> {
    const pending = this.pending;
    for (;;) {
      if (this.failure) throw this.failure;
      if (pending.head === pending.end) {
        if (this.finishing) break;
        await new Promise<void>((resolve) => (this.wakeLoop = resolve));
        this.wakeLoop = undefined;
        continue;
      }
      const entry = pending.at(pending.head);
      if (entry.kind === "file" || entry.kind === "buffer") this.jobs.requireJob(entry);
      const writing = this.entryWriter.write(entry);
      if (writing) await writing;
      if (this.failure) throw this.failure;
      this.declaredPending -= entry.declared;
      pending.advance();
      this.wakeRoomWaiter();
      if (entry.kind === "file") this.tally.files++;
      this.checkLimit(0);
      this.tally.report(false);
      this.collection.pace(this.output.position);
      pending.compact();
    }
    await this.records.writeCentralDirectory();
  }
}
