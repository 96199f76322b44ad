/**
 * What the main thread and an archive worker (deflate-worker.ts) say to each
 * other. Job ids are chosen by the main thread.
 *
 * Output goes into slots of a SharedArrayBuffer (`slotMemory`, each `slotSize`
 * bytes) that the main thread assigns per job and copies out; a job's slot is
 * not touched again until the main thread hands it back.
 */
import type { BlockReply, BlockRequest } from "./block-deflate-job.js";

/** Given to every worker at start. */
export interface DeflateWorkerData {
  /** The fraction of its size deflate must save for a file to be stored deflated. */
  minSaving: number;
  slotMemory: SharedArrayBuffer;
  slotSize: number;
  /** libdeflate's binding, which deflates the batches' files when given (deflate-engine.ts); else zlib does. */
  libdeflateFile?: string;
}

/**
 * Many small files in one job. One string each for paths and store flags: far
 * cheaper to pass between threads than an object per file.
 */
export interface BatchRequest {
  type: "batch";
  id: number;
  level: number;
  slots: number[];
  /** Paths joined with NUL. */
  paths: string;
  /** "1" for a file to store as it is, "0" for one that may be deflated; one character per file. */
  store: string;
  /** Each file's size when it was listed: a file read to exactly that size needs no fstat. */
  sizes: Float64Array;
  /**
   * The files' bytes are not on disk but back to back in the job's second slot, `sizes` long each
   * (`paths` is then empty): a remote home's files, fetched by the main thread.
   */
  inputs?: boolean;
}

export type DeflateRequest = BatchRequest | BlockRequest;

/**
 * A batch's answer. Per file, `meta` holds size, crc32, method and stored
 * length, and `hashes` a 32-byte SHA-256; a file that could not be read has
 * size -1 and a reason. The stored bytes lie back to back in `slot`, or, for a
 * batch that outgrew its slot, in `data` (transferred).
 */
export type BatchReply = {
  type: "batch";
  id: number;
  meta: Float64Array;
  hashes: Uint8Array;
  reasons: Array<[index: number, reason: string]>;
  length: number;
} & ({ slot: number; data?: undefined } | { data: ArrayBuffer; slot?: undefined });

/** A job that failed: the archive cannot be completed. */
export interface FailedReply {
  type: "failed";
  id: number;
  message: string;
}

export type DeflateReply = BatchReply | FailedReply | BlockReply;
