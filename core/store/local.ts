import { createReadStream } from "node:fs";
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { AppBackupError } from "../errors.js";
import { tryLocalLock } from "./local-lock.js";
import { assertPlainObjectName } from "./object-name.js";
import type { LockAttempt, LockOptions, StagedUpload, Store, StoredObject } from "./store.js";

/** Files that are being written carry this prefix and are never listed. */
export const partialPrefix = ".partial-";
const abandonedPartialAgeMs = 6 * 60 * 60 * 1000;

/** A folder used as a container: same names and layout as a blob container. */
export class LocalStore implements Store {
  constructor(readonly root: string) {}

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

  async check(): Promise<void> {
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

  async list(prefix = ""): Promise<StoredObject[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const objects: StoredObject[] = [];
    for (const name of names) {
      if (name.startsWith(".") || !name.startsWith(prefix)) continue;
      const info = await this.stat(name);
      if (info) objects.push(info);
    }
    return objects.sort((a, b) => a.name.localeCompare(b.name));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.stat(name)) !== undefined;
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    try {
      const info = await stat(this.pathOf(name));
      if (!info.isFile()) return undefined;
      return { name, size: info.size, lastModified: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Readable> {
    const file = this.pathOf(name);
    await this.mustExist(name);
    if (range && range.length === 0) return createReadStream(file, { start: 1, end: 0 });
    return createReadStream(file, range ? { start: range.offset, end: range.offset + range.length - 1 } : {});
  }

  async readAll(name: string): Promise<Buffer> {
    await this.mustExist(name);
    return readFile(this.pathOf(name));
  }

  async upload(name: string): Promise<StagedUpload> {
    const target = this.pathOf(name);
    await mkdir(this.root, { recursive: true });
    const temp = path.join(this.root, `${partialPrefix}${randomBytes(6).toString("hex")}-${name}`);
    const handle = await open(temp, "wx");
    return new LocalUpload(handle, temp, target);
  }

  async put(name: string, data: Buffer | string, options: { overwrite?: boolean } = {}): Promise<void> {
    if (!options.overwrite) {
      if (!(await this.create(name, data))) {
        throw new AppBackupError("STORAGE", `${name} already exists in ${this.root}; it is never overwritten.`);
      }
      return;
    }
    const target = this.pathOf(name);
    const temp = await this.writeTemp(name, data);
    try {
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async create(name: string, data: Buffer | string): Promise<boolean> {
    const target = this.pathOf(name);
    const temp = await this.writeTemp(name, data);
    try {
      // link() fails when the target exists: a complete file published in one step, never over another.
      await link(temp, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  private async writeTemp(name: string, data: Buffer | string): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const temp = path.join(this.root, `${partialPrefix}${randomBytes(6).toString("hex")}-${name}`);
    await writeFile(temp, data, { flag: "wx" });
    return temp;
  }

  async delete(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }

  async tryLock(name: string, options: LockOptions): Promise<LockAttempt> {
    this.pathOf(name);
    return tryLocalLock(this.root, name, options);
  }

  private async mustExist(name: string): Promise<void> {
    if (!(await this.exists(name))) {
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
    await link(this.temp, this.target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") {
        throw new AppBackupError("STORAGE", `${path.basename(this.target)} already exists; it is never overwritten.`);
      }
      throw error;
    });
    await rm(this.temp, { force: true });
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}
