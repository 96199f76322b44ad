import { randomBytes } from "node:crypto";
import { createReadStream, type BigIntStats } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { fileSource, type ReusableBufferSource } from "../archive/random-access-source.js";
import { AppBackupError } from "../errors.js";
import { linkExclusive, publishExclusive, publishReplacing } from "../fs/publish.js";
import { LocalLocker } from "./local-lock.js";
import {
  identityOf,
  isAbandonedRecord,
  metadataRecordFileOf,
  objectOfMetadataRecord,
  readMetadataRecord,
  removeMetadataRecord,
  writeMetadataRecord,
} from "./local-metadata.js";
import { assertWritableMetadata, visibleMetadata } from "./object-metadata.js";
import { assertPlainObjectName } from "./object-name.js";
import { partialPathOf, partialPrefix } from "./partial-file.js";
import type { CallOptions, ListOptions, StagedUpload, Store, StoredObject, WriteOptions } from "./store.js";
import { byCodeUnits } from "../code-unit-order.js";

const abandonedPartialAgeMs = 6 * 60 * 60 * 1000;

/** Names starting with a dot are the folder's own (metadata records, partial writes), never objects. */
const isObjectName = (name: string, prefix: string) => !name.startsWith(".") && name.startsWith(prefix);

/** A folder used as a container: same names and layout as a blob container. */
export class LocalStore implements Store {
  readonly locker: LocalLocker;

  constructor(readonly root: string) {
    this.locker = new LocalLocker(root);
  }

  get location(): string {
    return this.root;
  }

  urlOf(name: string): string {
    return pathToFileURL(this.pathOf(name)).toString();
  }

  pathOf(name: string): string {
    assertPlainObjectName(name, this.root);
    return path.join(this.root, name);
  }

  localPath(name: string): string {
    return this.pathOf(name);
  }

  async check(options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    try {
      await mkdir(this.root, { recursive: true });
      await this.removeAbandonedFiles();
      const probe = path.join(this.root, `${partialPrefix}probe-${randomBytes(6).toString("hex")}`);
      await writeFile(probe, "");
      await unlink(probe);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Permissions (or a read-only file system) refuse this user, as a SAS without write permission would.
      const refused = code === "EACCES" || code === "EPERM" || code === "EROFS";
      throw new AppBackupError(
        refused ? "STORAGE_AUTH" : "STORAGE",
        `The local container ${this.root} cannot be written: ${(error as Error).message}.`,
        "Point backup.storage at a folder this user can create and write.",
      );
    }
  }

  /**
   * A killed run leaves its invisible temp file behind, and may leave the
   * metadata record of an object it never published. A live upload keeps its
   * file's mtime fresh, so one untouched for hours belongs to no one.
   *
   * Only a record whose object is not in the folder can be abandoned: one
   * beside its object is never read here (readers check it against the file it
   * was written for, and writing the object again replaces it), so a backup into
   * a container of thousands of backups reads none of their records. Tidying never
   * fails the run: what cannot be looked at or removed is left.
   */
  private async removeAbandonedFiles(): Promise<void> {
    const cutoff = Date.now() - abandonedPartialAgeMs;
    const names = await readdir(this.root);
    const present = new Set(names);
    for (const name of names) {
      const recordOf = objectOfMetadataRecord(name);
      if (!name.startsWith(partialPrefix) && (recordOf === undefined || present.has(recordOf))) continue;
      await this.removeIfAbandoned(name, recordOf, cutoff).catch(() => undefined);
    }
  }

  private async removeIfAbandoned(name: string, recordOf: string | undefined, cutoff: number): Promise<void> {
    const file = path.join(this.root, name);
    const info = await stat(file);
    if (info.mtimeMs >= cutoff) return;
    if (recordOf === undefined || (await isAbandonedRecord(this.root, recordOf))) await rm(file, { force: true });
  }

  /** Metadata comes from each object's record, read only when asked for and only for objects that have one. */
  async *list(prefix = "", options: ListOptions = {}): AsyncIterable<StoredObject> {
    options.abortSignal?.throwIfAborted();
    const names = await this.folderNames();
    const recorded = options.includeMetadata ? new Set(names.filter((name) => objectOfMetadataRecord(name) !== undefined)) : new Set<string>();
    for (const name of names.sort(byCodeUnits)) {
      if (!isObjectName(name, prefix)) continue;
      options.abortSignal?.throwIfAborted();
      const info = await this.statObject(name, recorded.has(metadataRecordFileOf(name)));
      if (info) yield info;
    }
  }

  async listNames(prefix: string, options: CallOptions = {}): Promise<string[]> {
    options.abortSignal?.throwIfAborted();
    return (await this.folderNames()).filter((name) => isObjectName(name, prefix)).sort(byCodeUnits);
  }

  /** Every name in the folder, metadata records and partial writes included; none when there is no folder yet. */
  private async folderNames(): Promise<string[]> {
    try {
      return await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  async exists(name: string, options: CallOptions = {}): Promise<boolean> {
    options.abortSignal?.throwIfAborted();
    return (await this.statObject(name, false)) !== undefined;
  }

  async stat(name: string, options: CallOptions = {}): Promise<StoredObject | undefined> {
    options.abortSignal?.throwIfAborted();
    return this.statObject(name, true);
  }

  private async statObject(name: string, withMetadata: boolean): Promise<StoredObject | undefined> {
    const info = await this.fileOf(name);
    if (!info) return undefined;
    const object: StoredObject = { name, size: Number(info.size), lastModified: info.mtime };
    const metadata = withMetadata ? visibleMetadata(await readMetadataRecord(this.root, name, info)) : undefined;
    return metadata ? { ...object, metadata } : object;
  }

  /** The object's file, or undefined when no file is under the name. */
  private async fileOf(name: string): Promise<BigIntStats | undefined> {
    try {
      const info = await stat(this.pathOf(name), { bigint: true });
      return info.isFile() ? info : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async read(name: string, range?: { offset: number; length: number }, options: CallOptions = {}): Promise<Readable> {
    const file = this.pathOf(name);
    await this.mustExist(name, options);
    const signal = options.abortSignal;
    if (range && range.length === 0) return createReadStream(file, { start: 1, end: 0, signal });
    return createReadStream(file, range ? { start: range.offset, end: range.offset + range.length - 1, signal } : { signal });
  }

  async readAll(name: string, options: CallOptions = {}): Promise<Buffer> {
    await this.mustExist(name, options);
    return readFile(this.pathOf(name), { signal: options.abortSignal });
  }

  async openRandomAccess(name: string, options: CallOptions = {}): Promise<ReusableBufferSource> {
    options.abortSignal?.throwIfAborted();
    return fileSource(this.pathOf(name));
  }

  async upload(name: string, options: WriteOptions = {}): Promise<StagedUpload> {
    return this.stage(name, "exclusive", options);
  }

  private async stage(name: string, publish: "exclusive" | "replacing", options: WriteOptions): Promise<LocalUpload> {
    options.abortSignal?.throwIfAborted();
    const target = this.pathOf(name);
    if (options.metadata) assertWritableMetadata(options.metadata, name);
    await mkdir(this.root, { recursive: true });
    const temp = partialPathOf(this.root, name);
    const handle = await open(temp, "wx");
    return new LocalUpload(handle, temp, target, publish, options.metadata && { root: this.root, name, metadata: { ...options.metadata } });
  }

  /** Small objects with metadata are staged like uploads: the record must name the very file that is published. */
  private async writeWithMetadata(name: string, data: Buffer | string, publish: "exclusive" | "replacing", options: WriteOptions): Promise<boolean> {
    const upload = await this.stage(name, publish, options);
    try {
      await upload.write(typeof data === "string" ? Buffer.from(data) : data);
    } catch (error) {
      await upload.abort();
      throw error;
    }
    return upload.publish();
  }

  async put(name: string, data: Buffer | string, options: WriteOptions & { overwrite?: boolean } = {}): Promise<void> {
    if (!options.overwrite) {
      if (!(await this.create(name, data, options))) {
        throw new AppBackupError("STORAGE", `${name} already exists in ${this.root}; it is never overwritten.`);
      }
      return;
    }
    if (options.metadata) {
      await this.writeWithMetadata(name, data, "replacing", options);
      return;
    }
    const target = this.pathOf(name);
    await this.beforeWrite(options);
    await publishReplacing(target, data, { temp: partialPathOf(this.root, name) });
  }

  async create(name: string, data: Buffer | string, options: WriteOptions = {}): Promise<boolean> {
    if (options.metadata) return this.writeWithMetadata(name, data, "exclusive", options);
    const target = this.pathOf(name);
    await this.beforeWrite(options);
    // A complete file published in one step, never over another.
    return publishExclusive(target, data, { temp: partialPathOf(this.root, name) });
  }

  private async beforeWrite(options: CallOptions): Promise<void> {
    options.abortSignal?.throwIfAborted();
    await mkdir(this.root, { recursive: true });
  }

  /** The object goes first: its record without it is garbage, never an object without its record. */
  async setMetadata(name: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<boolean> {
    options.abortSignal?.throwIfAborted();
    assertWritableMetadata(metadata, name);
    const info = await this.fileOf(name);
    if (!info) return false;
    await writeMetadataRecord(this.root, name, identityOf(info), metadata);
    return true;
  }

  async delete(name: string, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    await rm(this.pathOf(name), { force: true });
    await removeMetadataRecord(this.root, name);
  }

  private async mustExist(name: string, options: CallOptions): Promise<void> {
    if (!(await this.exists(name, options))) {
      throw new AppBackupError("STORAGE_NOT_FOUND", `${name} does not exist in ${this.root}.`);
    }
  }
}

/** Metadata to record for an upload's object. */
interface RecordToWrite {
  root: string;
  name: string;
  metadata: Record<string, string>;
}

class LocalUpload implements StagedUpload {
  bytesWritten = 0;
  private position = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly target: string,
    private readonly mode: "exclusive" | "replacing",
    private readonly record?: RecordToWrite,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.position);
      offset += bytesWritten;
      this.position += bytesWritten;
    }
    this.bytesWritten += chunk.length;
  }

  async commit(): Promise<void> {
    if (!(await this.publish())) {
      throw new AppBackupError("STORAGE", `${path.basename(this.target)} already exists; it is never overwritten.`);
    }
  }

  /**
   * Makes the file visible under its name, its metadata record first so that
   * the object is never seen without it; false when the name was taken.
   */
  async publish(): Promise<boolean> {
    try {
      let written: BigIntStats;
      try {
        await this.handle.sync();
        written = await this.handle.stat({ bigint: true });
      } finally {
        await this.handle.close();
      }
      if (this.record) {
        // A taken name keeps its own record: the common case is refused before the record is replaced.
        if (this.mode === "exclusive" && (await exists(this.target))) return false;
        await writeMetadataRecord(this.record.root, this.record.name, identityOf(written), this.record.metadata);
      }
      if (this.mode === "replacing") {
        await rename(this.temp, this.target);
        return true;
      }
      return await linkExclusive(this.temp, this.target);
    } finally {
      await rm(this.temp, { force: true });
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
}
