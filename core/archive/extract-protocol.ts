/**
 * What the main thread and a restore worker (extract-worker.ts) say to each
 * other. Job ids are chosen by the main thread.
 *
 * Entries are described compactly, as cloning thousands of small objects per
 * second costs more than the work on them: FIELDS numbers per entry in a
 * Float64Array (see FIELD), the expected SHA-256s back to back in one buffer,
 * target paths joined with NUL ("" for an entry that is only checked).
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

/** The entries of one job, in the compact form above. */
export interface EntryDescription {
  fields: Float64Array;
  /** 32 bytes per entry. */
  sha256: Uint8Array;
  /** Target paths joined with NUL; "" for an entry that is only checked. */
  targets: string;
}

/**
 * Small entries back to back in `data[0, length)`, local headers included.
 * `fields` and `sha256` are views of `description`, a buffer sent back with
 * the answer to be used again, as `data` is: a batch allocates nothing that
 * crosses threads (a buffer handed to a worker and dropped there was measured
 * to stay counted, and resident, long after).
 */
export interface ExtractBatchRequest extends EntryDescription {
  type: "batch";
  id: number;
  data: ArrayBuffer;
  length: number;
  description: ArrayBuffer;
}

/** One large entry, whose stored bytes follow in chunks; `targets` is its one path. */
export interface OpenRequest extends EntryDescription {
  type: "open";
  id: number;
}

export interface ChunkRequest {
  type: "chunk";
  id: number;
  data: ArrayBuffer;
  length: number;
}

/** The large entry's stored bytes are all sent. */
export interface EndRequest {
  type: "end";
  id: number;
}

/**
 * Delete a folder and all it holds (links unlinked, never followed): a share of
 * the old home, deleted after a restore's switch while the workers are idle.
 * Answered with `done`, whose failure says why it could not be.
 */
export interface RemoveRequest {
  type: "remove";
  id: number;
  path: string;
}

/** What a restore worker starts with. */
export interface ExtractWorkerData {
  /** libdeflate's binding, which inflates the batches' entries when given (deflate-engine.ts); else zlib does. */
  libdeflateFile?: string;
}

export type ExtractRequest = ExtractBatchRequest | OpenRequest | ChunkRequest | EndRequest | RemoveRequest;

/** An entry that failed, by its place in the job. corrupt: the content is not what the manifest says. */
export interface ExtractFailure {
  index: number;
  corrupt: boolean;
  message: string;
  code?: string;
}

/** `recycled` is the request's `data` buffer sent back (transferred) for the next read. */
export interface ExtractBatchReply {
  type: "batch";
  id: number;
  failures: ExtractFailure[];
  /** The checked content of entries that asked for it (transferred). */
  returned: Array<{ index: number; data: ArrayBuffer }>;
  recycled: ArrayBuffer;
  /** The request's `description` buffer, sent back (transferred) for the next batch. */
  recycledDescription: ArrayBuffer;
}

/** A chunk was consumed; failed: the entry is already bad, send no more. */
export interface AckReply {
  type: "ack";
  id: number;
  bytes: number;
  failed: boolean;
  recycled: ArrayBuffer;
}

/** The large entry is finished: its failure, or its content if it asked for it. */
export interface DoneReply {
  type: "done";
  id: number;
  failure?: ExtractFailure;
  data?: ArrayBuffer;
}

/** A bug, not a bad entry. */
export interface FatalReply {
  type: "fatal";
  id: number;
  message: string;
}

export type ExtractReply = ExtractBatchReply | AckReply | DoneReply | FatalReply;
