import type { Readable } from "node:stream";
import type { ByteSink } from "../archive/types.js";
import type { ReusableBufferSource } from "../archive/random-access-source.js";
import type { Locker } from "./locker.js";
import type { SasTerms } from "./sas.js";

/** A blob (or file) in a backup container. */
export interface StoredObject {
  name: string;
  size: number;
  lastModified: Date;
  /**
   * The object's metadata (names in lower case), when it was listed or stat'ed
   * with `includeMetadata` and has any. Never holds a credential.
   */
  metadata?: Readonly<Record<string, string>>;
}

/** What `list` accepts besides a signal. */
export interface ListOptions extends CallOptions {
  /** Also fetch each object's metadata (blob metadata, or the local store's record of it). */
  includeMetadata?: boolean;
  /** Objects per request to blob storage: a small page when only the first few are wanted. */
  pageSize?: number;
}

/** What writes accept besides a signal. */
export interface WriteOptions extends CallOptions {
  /**
   * Metadata stored with the object and visible once it is: names are lower-case
   * letters and digits, values printable ASCII (see core/format/catalog-metadata.ts).
   */
  metadata?: Record<string, string>;
}

/** An upload that becomes visible under its name only when committed. */
export interface StagedUpload extends ByteSink {
  /** Makes the object visible in one step (block-list commit, or rename). */
  commit(): Promise<void>;
  /** Discards everything staged; the name stays as it was. */
  abort(): Promise<void>;
  readonly bytesWritten: number;
}

/** What every store call accepts: a signal that gives the call up. */
export interface CallOptions {
  abortSignal?: AbortSignal;
}

/**
 * A backup container: Azure Blob Storage or a local folder, with the same layout.
 * Every method works on names relative to the container; nothing here ever
 * returns or throws a credential. A call given an aborted signal rejects with
 * the signal's reason and changes nothing more.
 */
export interface Store {
  /** Where the container is, safe to print: no SAS, no key. */
  readonly location: string;
  /** Locks kept in this container (app locks, backup name claims). */
  readonly locker: Locker;
  /** What the SAS the container is reached with grants, and when, for a container reached by one. */
  readonly sas?: SasTerms;
  /** Address of one object, safe to print: no SAS, no key. */
  urlOf(name: string): string;
  /**
   * The object as a file of this machine, for a container that is a folder: the
   * engine then knows which paths must survive a restore into that folder.
   */
  localPath?(name: string): string;
  /** Fails with a clear error when the container cannot be reached or written. */
  check(options?: CallOptions): Promise<void>;
  /** The objects whose names start with `prefix`, fetched as they are consumed (a page at a time from blob storage). */
  list(prefix?: string, options?: ListOptions): AsyncIterable<StoredObject>;
  /**
   * The names that start with `prefix`, sorted by code units, without their
   * sizes or metadata: offered by a container that reads all its names for any
   * listing (a folder), where asking this once costs what asking whether any
   * name starts with a prefix costs, and answers every such question after it.
   */
  listNames?(prefix: string, options?: CallOptions): Promise<string[]>;
  exists(name: string, options?: CallOptions): Promise<boolean>;
  /** The object with its metadata, or undefined when nothing is under the name. */
  stat(name: string, options?: CallOptions): Promise<StoredObject | undefined>;
  /** Streams an object, optionally a byte range of it. */
  read(name: string, range?: { offset: number; length: number }, options?: CallOptions): Promise<Readable>;
  readAll(name: string, options?: CallOptions): Promise<Buffer>;
  /** The object's bytes at any offset, as the zip reader reads them; `close()` it when done. */
  openRandomAccess(name: string, options?: CallOptions): Promise<ReusableBufferSource>;
  /**
   * Starts a staged upload; nothing is visible under `name` until commit. The
   * signal gives up the staging, never the commit: a commit whose reply is lost
   * may have made the object visible all the same.
   */
  upload(name: string, options?: WriteOptions): Promise<StagedUpload>;
  /** Writes a small object; fails if one already exists under that name and `overwrite` is not set. */
  put(name: string, data: Buffer | string, options?: WriteOptions & { overwrite?: boolean }): Promise<void>;
  /**
   * Writes a small object only when nothing is under its name, in one atomic
   * step: true when this call created it, false when the name was taken. A
   * retry of this call that finds its own earlier try done counts as created.
   */
  create(name: string, data: Buffer | string, options?: WriteOptions): Promise<boolean>;
  delete(name: string, options?: CallOptions): Promise<void>;
  /**
   * Replaces the metadata of an object that exists; false when nothing is under
   * the name. For facts recorded after the object was written (see the catalog).
   */
  setMetadata(name: string, metadata: Record<string, string>, options?: CallOptions): Promise<boolean>;
}

/** Every object `list` yields, in one array, for callers that look at them all. */
export async function listAll(store: Store, prefix?: string, options?: ListOptions): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for await (const object of store.list(prefix, options)) objects.push(object);
  return objects;
}
