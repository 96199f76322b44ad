import { chmodSync, lchownSync, lutimesSync, mkdirSync, symlinkSync, utimesSync } from "node:fs";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import type { ZipIndex } from "../archive/zip-index.js";
import { manifestRowsInZipOrder, type EntryPairs } from "./compare.js";
import { AppBackupError } from "../errors.js";
import { CONTENT_PREFIX, META_ENTRY } from "../format/zip-layout.js";
import { exactTime } from "./fs-steps.js";
import { EntryFailure, extractEntries, type ExtractItem, type ExtractProgress } from "../archive/extract.js";
import type { ExtractPool } from "../archive/extract-pool.js";
import type { RestorePaths } from "./journal.js";
import type { ZipByteSource } from "./store-source.js";
import type { TargetPlan } from "./target-plan.js";

export interface StageInput {
  source: ZipByteSource;
  zip: ZipIndex;
  /** The manifest's entries, and for each the row of its entry in the zip. */
  entries: EntryTable;
  pairs: EntryPairs;
  paths: RestorePaths;
  plan: TargetPlan;
  /** Database dump entries to write beside the tree for loading. */
  dumpEntries: ReadonlySet<string>;
  /** Root entries read and checked before staging (the meta a settings restore needs): not read twice. */
  alreadyChecked?: ReadonlySet<string>;
  /** Owner to give every restored path (set when running as root over a home owned by someone else). */
  owner?: { uid: number; gid: number };
  /** Mode of the home folder itself (kept from the current home). */
  homeMode: number;
  onProgress?: (progress: ExtractProgress) => void;
  signal?: AbortSignal;
  /** Worker threads to use; the caller closes them (before deleting a failed staging tree). */
  pool?: ExtractPool;
}

export interface StagedBackup {
  /** Checked dump files by entry name. */
  dumps: Map<string, string>;
  files: number;
  bytes: number;
}

/** The setuid and setgid bits are not restored on files: a backup must not be able to plant a privileged program. */
const FILE_MODE_BITS = 0o777;
const FOLDER_MODE_BITS = 0o3777;

/**
 * Builds the backup's tree beside the home: every file inflated, checked
 * against the manifest's size and SHA-256, and written by worker threads into
 * fresh folders (never through a link), then symlinks, then folder modes and
 * times, deepest first. Entries that are not written (kept paths, root
 * entries) are still read and checked.
 *
 * Entries are handed to the extraction in the order of their data in the zip,
 * each made as it is pulled, with its folder created just before: nothing is
 * held per entry but row numbers of folders and links (typed arrays).
 */
export async function stageBackup(input: StageInput): Promise<StagedBackup> {
  const { paths, entries } = input;
  try {
    mkdirSync(paths.tree, { mode: 0o700 });
    if (input.dumpEntries.size > 0) mkdirSync(paths.dumps, { mode: 0o700 });
  } catch (error) {
    throw stagingError(new EntryFailure(paths.tree, false, (error as Error).message, (error as NodeJS.ErrnoException).code), paths.tree);
  }

  const plan = new StagingItems(input);
  let content: Map<string, Buffer>;
  try {
    content = await extractEntries(input.source, input.zip, plan.items(), { onProgress: input.onProgress, signal: input.signal, pool: input.pool, digests: entries });
  } catch (error) {
    throw stagingError(error, paths.tree);
  }

  for (const index of plan.links.rows()) {
    const name = entries.name(index);
    const target = stagedPath(paths.tree, name);
    const linkTarget = content.get(name)!.toString("utf8");
    const expected = entries.linkTargets.get(index);
    if (linkTarget !== expected) {
      throw new AppBackupError("BACKUP_CORRUPT", `The symlink ${name} points to ${JSON.stringify(linkTarget)} in the zip but to ${JSON.stringify(expected)} in the manifest; nothing was changed.`);
    }
    try {
      symlinkSync(linkTarget, target);
      if (input.owner) lchownSync(target, input.owner.uid, input.owner.gid);
      lutimesSync(target, exactTime(entries.mtime(index)), exactTime(entries.mtime(index)));
    } catch (error) {
      throw stagingError(new EntryFailure(name, false, (error as Error).message, (error as NodeJS.ErrnoException).code), paths.tree);
    }
  }
  // Deepest first: setting a folder's time must come after everything inside it is written.
  for (const index of deepestFirst(entries, plan.folders.rows())) {
    const target = stagedPath(paths.tree, entries.name(index));
    chmodSync(target, entries.modes[index]! & FOLDER_MODE_BITS);
    if (input.owner) lchownSync(target, input.owner.uid, input.owner.gid);
    utimesSync(target, exactTime(entries.mtime(index)), exactTime(entries.mtime(index)));
  }
  chmodSync(paths.tree, input.homeMode & FOLDER_MODE_BITS);
  if (input.owner) lchownSync(paths.tree, input.owner.uid, input.owner.gid);
  return { dumps: plan.dumps, files: plan.files, bytes: plan.bytes };
}

/**
 * What staging reads and writes, made entry by entry as the extraction pulls
 * it: folders are created as their entries come (a folder comes before what it
 * holds) and a file's folder only when it is missing, so no set of every
 * folder is kept either.
 */
class StagingItems {
  /** Manifest rows of the folders to give their modes and times once everything is written. */
  readonly folders = new RowList();
  /** Manifest rows of the symlinks to create once their targets are read. */
  readonly links = new RowList();
  /** Checked dump files by entry name. */
  readonly dumps = new Map<string, string>();
  files = 0;
  bytes = 0;
  /** The folder the last file went into: the next file is most often beside it. */
  private lastFolder = "";

  constructor(private readonly input: StageInput) {}

  /** Every entry to read, in the order of its data in the zip. */
  *items(): Generator<ExtractItem> {
    for (const index of manifestRowsInZipOrder(this.input.pairs, this.input.zip.table)) {
      const item = this.itemFor(index);
      if (item) yield item;
    }
  }

  private itemFor(index: number): ExtractItem | undefined {
    const { entries, paths, plan } = this.input;
    const check = (extra: Partial<ExtractItem> = {}): ExtractItem => ({ name: entries.name(index), zipIndex: this.input.pairs.of(index), digestIndex: index, ...extra });
    const kind = entries.kinds[index];
    if (!entries.names.startsWith(index, CONTENT_PREFIX)) {
      if (kind === DIRECTORY) return undefined;
      const name = entries.name(index);
      if (this.input.dumpEntries.has(name)) {
        const target = path.join(paths.dumps, `${this.dumps.size}.sql`);
        this.dumps.set(name, target);
        return check({ target, mode: 0o600, mtimeMs: entries.mtime(index) });
      }
      if (this.input.alreadyChecked?.has(name)) return undefined;
      // The meta is held whole, as a settings restore holds it, so the same size bound refuses an oversized one.
      return check({ returnData: name === META_ENTRY });
    }
    if (entries.names.length(index) - (kind === DIRECTORY ? 1 : 0) <= CONTENT_PREFIX.length) return undefined;
    if (plan.keepsEntry(index)) return kind === DIRECTORY ? undefined : check();
    const item = check();
    if (kind === DIRECTORY) {
      this.makeFolder(stagedPath(paths.tree, item.name), item.name);
      this.folders.push(index);
      return undefined;
    }
    const target = stagedPath(paths.tree, item.name);
    const folder = path.dirname(target);
    if (folder !== this.lastFolder) this.makeFolder(folder, item.name);
    this.lastFolder = folder;
    if (kind === SYMLINK) {
      this.links.push(index);
      item.returnData = true;
      return item;
    }
    this.files++;
    this.bytes += this.input.zip.table.sizes[item.zipIndex]!;
    return Object.assign(item, { targetRoot: paths.tree, mode: entries.modes[index]! & FILE_MODE_BITS, mtimeMs: entries.mtime(index), owner: this.input.owner });
  }

  /** Creates a folder of the staged tree (and any missing above it: the zip need not list every folder, nor before its content). */
  private makeFolder(folder: string, name: string): void {
    try {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new EntryFailure(name, false, (error as Error).message, (error as NodeJS.ErrnoException).code);
    }
  }
}

/** Row numbers, 4 bytes each, in a growing typed array. */
class RowList {
  private list = new Uint32Array(64);
  private count = 0;

  push(row: number): void {
    if (this.count === this.list.length) {
      const larger = new Uint32Array(this.list.length * 2);
      larger.set(this.list);
      this.list = larger;
    }
    this.list[this.count++] = row;
  }

  rows(): Uint32Array {
    return this.list.subarray(0, this.count);
  }
}

const DIRECTORY = 1;
const SYMLINK = 2;

/** Where a content entry is staged: names were checked (no empty, . or .. segments), so joining by hand is exact. */
function stagedPath(tree: string, name: string): string {
  const relative = name.slice(CONTENT_PREFIX.length, name.endsWith("/") ? -1 : undefined);
  return `${tree}${path.sep}${path.sep === "/" ? relative : relative.split("/").join(path.sep)}`;
}

/** Folder rows, deepest (most slashes in the name) first; in row order among equals. */
function deepestFirst(entries: EntryTable, rows: Uint32Array): Uint32Array {
  const { names } = entries;
  // Depth and row in one number, sorted without a comparator: (deepest first) * 2^32 + row.
  const keys = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    const bytes = names.bytes(row);
    let depth = 0;
    for (let at = 0; at < bytes.length; at++) if (bytes[at] === 0x2f) depth++;
    keys[i] = (MAX_DEPTH - depth) * 2 ** 32 + row;
  });
  keys.sort();
  return Uint32Array.from(keys, (key) => key % 2 ** 32);
}

/** More slashes than any name can hold (a name is at most 64 KiB). */
const MAX_DEPTH = 65536;

/** Turns a failure while staging into what the user should know: the home is untouched either way. */
function stagingError(error: unknown, tree: string): Error {
  if (error instanceof AppBackupError) return error;
  if (error instanceof EntryFailure) {
    if (error.corrupt) {
      return new AppBackupError(
        "BACKUP_CORRUPT",
        `The backup's ${error.entryName} does not match its manifest (${error.reason}); the restore stopped and nothing was changed.`,
        "The zip was damaged or altered after the backup. Run `app-backup verify --read-data` and restore another backup.",
      );
    }
    if (error.code === "ENOSPC" || error.code === "EDQUOT") {
      return new AppBackupError(
        "RESTORE",
        `No space left on the device while staging the restored files beside the home (at ${error.entryName}); the restore stopped and nothing was changed.`,
        `The restore builds the new home next to the old one (${path.dirname(tree)}) before switching, so that file system needs room for both. Free space there and run the restore again.`,
      );
    }
    return new AppBackupError(
      "RESTORE",
      `Cannot write ${error.entryName} into the staging folder ${tree}: ${error.reason}; the restore stopped and nothing was changed.`,
      error.code === "EEXIST"
        ? "Two entries of the backup map to the same file here: the target file system probably ignores case and the backup came from one that does not."
        : undefined,
    );
  }
  return error as Error;
}
