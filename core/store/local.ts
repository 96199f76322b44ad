import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { fileSource, type ReusableBufferSource } from "../archive/random-access-source.js";
import { AppBackupError } from "../errors.js";
import { linkExclusive, publishExclusive, publishReplacing } from "../fs/publish.js";
import { LocalLocker } from "./local-lock.js";
import { assertPlainObjectName } from "./object-name.js";
import { partialPathOf, partialPrefix } from "./partial-file.js";
import type { CallOptions, StagedUpload, Store, StoredObject } from "./store.js";

const abandonedPartialAgeMs = 6 * 60 * 60 * 1000;

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
      await this.removeAbandonedPartials();
      const probe = path.join(this.root, `${partialPrefix}probe-${randomBytes(6).toString("hex")}`);
      await writeFile(probe, "");
      await unlink(probe);
    } catch (error) {
      throw new AppBackupError(
        "STORAGE",
        `The local container ${this.root} cannot be written: ${(error as Error).message}.`,
        "Point backup.storage at a folder this user can create and write.",
      );
    }
  }

  /**
   * A killed run leaves its invisible temp file behind. A live upload keeps its
   * file's mtime fresh, so one untouched for hours belongs to no one.
   */
  private async removeAbandonedPartials(): Promise<void> {
    const cutoff = Date.now() - abandonedPartialAgeMs;
    for (const name of await readdir(this.root)) {
      if (!name.startsWith(partialPrefix)) continue;
      const file = path.join(this.root, name);
      const info = await stat(file).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(file, { force: true });
    }
  }

  async *list(prefix = "", options: CallOptions = {}): AsyncIterable<StoredObject> {
    options.abortSignal?.throwIfAborted();
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const name of names.sort((a, b) => a.localeCompare(b))) {
      if (name.startsWith(".") || !name.startsWith(prefix)) continue;
      const info = await this.stat(name, options);
      if (info) yield info;
    }
  }

  async exists(name: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.stat(name, options)) !== undefined;
  }

  async stat(name: string, options: CallOptions = {}): Promise<StoredObject | undefined> {
    options.abortSignal?.throwIfAborted();
    try {
      const info = await stat(this.pathOf(name));
      if (!info.isFile()) return undefined;
      return { name, size: info.size, lastModified: info.mtime };
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

  async upload(name: string, options: CallOptions = {}): Promise<StagedUpload> {
    options.abortSignal?.throwIfAborted();
    const target = this.pathOf(name);
    await mkdir(this.root, { recursive: true });
    const temp = partialPathOf(this.root, name);
    const handle = await open(temp, "wx");
    return new LocalUpload(handle, temp, target);
  }

  async put(name: string, data: Buffer | string, options: CallOptions & { overwrite?: boolean } = {}): Promise<void> {
    if (!options.overwrite) {
      if (!(await this.create(name, data, options))) {
        throw new AppBackupError("STORAGE", `${name} already exists in ${this.root}; it is never overwritten.`);
      }
      return;
    }
    const target = this.pathOf(name);
    await this.beforeWrite(options);
    await publishReplacing(target, data, { temp: partialPathOf(this.root, name) });
  }

  async create(name: string, data: Buffer | string, options: CallOptions = {}): Promise<boolean> {
    const target = this.pathOf(name);
    await this.beforeWrite(options);
    // A complete file published in one step, never over another.
    return publishExclusive(target, data, { temp: partialPathOf(this.root, name) });
  }

  private async beforeWrite(options: CallOptions): Promise<void> {
    options.abortSignal?.throwIfAborted();
    await mkdir(this.root, { recursive: true });
  }

  async delete(name: string, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    await rm(this.pathOf(name), { force: true });
  }

  private async mustExist(name: string, options: CallOptions): Promise<void> {
    if (!(await this.exists(name, options))) {
      throw new AppBackupError("STORAGE_NOT_FOUND", `${name} does not exist in ${this.root}.`);
    }
  }
}

class LocalUpload implements StagedUpload {
  bytesWritten = 0;
  private position = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly temp: string,
    private readonly target: string,
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
    await this.handle.sync();
    await this.handle.close();
    const published = await linkExclusive(this.temp, this.target);
    await rm(this.temp, { force: true });
    if (!published) {
      throw new AppBackupError("STORAGE", `${path.basename(this.target)} already exists; it is never overwritten.`);
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}
