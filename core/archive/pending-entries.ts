import type { ArchiveEntry } from "./types.js";
import type { BatchJob } from "./worker-jobs.js";

interface PendingBase {
  name: string;
  /**
   * Modification time, in milliseconds: a number rather than the caller's Date, so each of the
   * thousands of entries waiting in the queue holds one object less for the young generation to copy.
   */
  mtimeMs: number;
  mode: number;
  /** Uncompressed bytes expected when the entry was added (counted against the size limit until written). */
  declared: number;
}

/** An entry whose bytes the caller handed over: a directory, a link's target. */
export interface PendingData extends PendingBase {
  kind: "directory" | "symlink";
  data: Buffer;
}

/** Where a small file's bytes are deflated: the batch carrying it is set once started. */
interface Batched {
  /** Stored as it is, never deflated. */
  store: boolean;
  batch?: BatchJob;
  batchIndex?: number;
}

/** A file on disk: a small one read and deflated by a worker, a large one read by the writer. */
export interface PendingFile extends PendingBase, Batched {
  kind: "file";
  path: string;
}

/**
 * A file's bytes the caller already holds (fetched from a remote home, a
 * settings document): a small one is copied into a worker's input slot and
 * deflated there with the batch it joins, or here when no worker is worth starting.
 */
export interface PendingBytes extends PendingBase, Batched {
  kind: "buffer";
  data: Buffer;
}

/** An entry a worker may deflate in a batch. */
export type PendingBatchable = PendingFile | PendingBytes;

/** A source of unknown length, deflated on the main thread as it streams. */
export interface PendingStream extends PendingBase {
  kind: "stream";
  source: AsyncIterable<Buffer | Uint8Array | string>;
  resolve: (entry: ArchiveEntry) => void;
  reject: (error: Error) => void;
}

export type PendingEntry = PendingData | PendingFile | PendingBytes | PendingStream;

/**
 * Entries added and not yet written, in archive order. Positions count every
 * entry ever added, so the job scheduler's place in the queue stays valid when
 * written entries are dropped from the front.
 */
export class PendingEntries {
  private entries: Array<PendingEntry | undefined> = [];
  /** Position of `entries[0]`. */
  private base = 0;
  /** Position of the next entry to write. */
  head = 0;

  /** Position after the last entry added. */
  get end(): number {
    return this.base + this.entries.length;
  }

  get count(): number {
    return this.end - this.head;
  }

  push(entry: PendingEntry): void {
    this.entries.push(entry);
  }

  /** The entry at `position`, which must lie between `head` and `end`. */
  at(position: number): PendingEntry {
    return this.entries[position - this.base]!;
  }

  /** The head entry was written: it is let go and the next one becomes the head. */
  advance(): void {
    this.entries[this.head++ - this.base] = undefined;
  }

  /** Drops written entries from the front so memory follows what is pending, not what was done. */
  compact(): void {
    const written = this.head - this.base;
    if (written < 4096 || written * 2 < this.entries.length) return;
    this.entries = this.entries.slice(written);
    this.base = this.head;
  }

  /** Streams waiting to be written: their callers are told when the archive fails. */
  *streams(): Generator<PendingStream> {
    for (let position = this.head; position < this.end; position++) {
      const entry = this.entries[position - this.base];
      if (entry?.kind === "stream") yield entry;
    }
  }

  clear(): void {
    this.entries = [];
    this.base = this.head;
  }
}
