import type { EntryTable } from "./entry-table.js";
import type { ExtractPool } from "./extract-pool.js";

/** One entry to read, check and (optionally) write. */
export interface ExtractItem {
  /**
   * The entry's name, for messages and returned content: the name of manifest
   * row `digestIndex`, by which an entry of a batch is named once its item is let go.
   */
  name: string;
  /** The entry's row in the zip index (where its data is, how it is stored). */
  zipIndex: number;
  /** The entry's row in the manifest (`digests`), whose SHA-256 the content must have. */
  digestIndex: number;
  /** Also check the content's CRC-32 against the zip's. */
  checkCrc?: boolean;
  /** Absolute path of the file to create; absent (and no `targetRoot`) to only check the entry. */
  target?: string;
  /**
   * The file is created at this folder plus the entry's name without its first
   * path segment (`fs/site/a.txt` → `{targetRoot}/site/a.txt`); the path is made
   * only when the entry is handed to a worker, so tens of thousands of paths
   * are never held at once.
   */
  targetRoot?: string;
  /** Permission bits of the created file. */
  mode?: number;
  mtimeMs?: number;
  owner?: { uid: number; gid: number };
  /** Hand the checked content back (small entries: link targets, `meta`). */
  returnData?: boolean;
}

/** Why an entry failed: its content is not what the manifest says, or it could not be written. */
export class EntryFailure extends Error {
  constructor(
    readonly entryName: string,
    readonly corrupt: boolean,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${entryName}: ${reason}`);
  }
}

/** A failed entry as a worker reports it, by its place in the job. */
export interface WorkerFailure {
  index: number;
  corrupt: boolean;
  message: string;
  code?: string;
}

export interface ExtractProgress {
  files: number;
  bytes: number;
}

export interface ExtractOptions {
  /**
   * Entries with stored data above this many bytes, or that declare more than
   * IN_MEMORY_ENTRY_BYTES inflated, are streamed in chunks; smaller ones travel in batches.
   */
  largeEntryBytes?: number;
  batchBytes?: number;
  chunkBytes?: number;
  /** Stored bytes read but not yet processed by a worker, at most. */
  maxInFlightBytes?: number;
  workers?: number;
  /**
   * An archive whose entries' data (everything before its central directory)
   * and whose entries' declared inflated sizes each total at most this many
   * bytes is extracted on the main thread, starting no worker thread; default
   * MAIN_THREAD_ARCHIVE_BYTES.
   */
  mainThreadArchiveBytes?: number;
  /** Workers to use (started as jobs need them); closed by the caller. By default a pool is made and closed here. */
  pool?: ExtractPool;
  /** The manifest's entries, whose digests the items name by row. */
  digests: EntryTable;
  onProgress?: (progress: ExtractProgress) => void;
  /** Called for an entry whose content does not match instead of stopping (verification lists them all). */
  onCorrupt?: (failure: EntryFailure) => void;
  signal?: AbortSignal;
}
