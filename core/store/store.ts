import type { Readable } from "node:stream";
import type { ByteSink } from "../archive/types.js";

/** A blob (or file) in a backup container. */
export interface StoredObject {
  name: string;
  size: number;
  lastModified: Date;
}

/** An upload that becomes visible under its name only when committed. */
export interface StagedUpload extends ByteSink {
  /** Makes the object visible in one step (block-list commit, or rename). */
  commit(): Promise<void>;
  /** Discards everything staged; the name stays as it was. */
  abort(): Promise<void>;
  readonly bytesWritten: number;
}

/**
 * A backup container: Azure Blob Storage or a local folder, with the same layout.
 * Every method works on names relative to the container; nothing here ever
 * returns or throws a credential.
 */
export interface Store {
  /** Where the container is, safe to print: no SAS, no key. */
  readonly location: string;
  /** Address of one object, safe to print: no SAS, no key. */
  urlOf(name: string): string;
  /** Fails with a clear error when the container cannot be reached or written. */
  check(): Promise<void>;
  list(prefix?: string): Promise<StoredObject[]>;
  exists(name: string): Promise<boolean>;
  stat(name: string): Promise<StoredObject | undefined>;
  /** Streams an object, optionally a byte range of it. */
  read(name: string, range?: { offset: number; length: number }): Promise<Readable>;
  readAll(name: string): Promise<Buffer>;
  /** Starts a staged upload; nothing is visible under `name` until commit. */
  upload(name: string): Promise<StagedUpload>;
  /** Writes a small object; fails if one already exists under that name and `overwrite` is not set. */
  put(name: string, data: Buffer | string, options?: { overwrite?: boolean }): Promise<void>;
  /**
   * Writes a small object only when nothing is under its name, in one atomic
   * step: true when this call created it, false when the name was taken. A
   * retry of this call that finds its own earlier try done counts as created.
   */
  create(name: string, data: Buffer | string): Promise<boolean>;
  delete(name: string): Promise<void>;
  /**
   * Takes an exclusive lock named `name` that expires by itself `ttlMs` after
   * its last renewal, so a holder that crashed never blocks others for long.
   * Resolves without a lock when another holder has it.
   */
  tryLock(name: string, options: LockOptions): Promise<LockAttempt>;
}

export interface LockOptions {
  /** How long the lock lives without renewal. */
  ttlMs: number;
  /** Who holds it (process, host, purpose), shown to whoever finds it taken. */
  holder: string;
}

export type LockAttempt =
  | { acquired: true; lock: StoreLock }
  | { acquired: false; holder?: string; expiresAt?: Date };

/** A held lock: renew it well within its time-to-live, release it when done. */
export interface StoreLock {
  readonly ttlMs: number;
  /** Extends the lock; rejects with a LOCKED error when it expired and someone else took it. */
  renew(): Promise<void>;
  /** Gives the lock up; does nothing when it was already lost. */
  release(): Promise<void>;
  /**
   * Gives the lock up and removes its object, for a lock whose name is used
   * once (a backup name's claim); does nothing when it was already lost.
   */
  discard(): Promise<void>;
}
