import { chmodSync, lchownSync, lutimesSync, mkdirSync, symlinkSync, utimesSync } from "node:fs";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import type { ZipIndex } from "../archive/zip-index.js";
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
  pairs: Int32Array;
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
 * Builds the backup's tree beside the home: folders first, then every file
 * (inflated, checked against the manifest's size and SHA-256, and written by
 * worker threads into fresh folders, never through a link), then symlinks,
 * then folder modes and times, deepest first. Entries that are not written
 * (kept paths, root entries) are still read and checked.
 */
export async function stageBackup(input: StageInput): Promise<StagedBackup> {
  const { paths, plan, owner, entries, pairs } = input;
  try {
    mkdirSync(paths.tree, { mode: 0o700 });
    if (input.dumpEntries.size > 0) mkdirSync(paths.dumps, { mode: 0o700 });
  } catch (error) {
    throw stagingError(new EntryFailure(paths.tree, false, (error as Error).message, (error as NodeJS.ErrnoException).code), paths.tree);
  }

  /** Manifest rows of folders and links, with their staged paths. */
  const folders: Array<{ target: string; index: number }> = [];
  const links: Array<{ target: string; index: number }> = [];
  const items: ExtractItem[] = [];
  const created = new Set<string>([paths.tree]);
  const ensureFolder = (folder: string) => {
    if (created.has(folder)) return;
    ensureFolder(path.dirname(folder));
    mkdirSync(folder, { mode: 0o700 });
    created.add(folder);
  };
  const check = (index: number, extra: Partial<ExtractItem> = {}): ExtractItem => ({ name: entries.names[index]!, zipIndex: pairs[index]!, digestIndex: index, ...extra });

  try {
    for (let index = 0; index < entries.count; index++) {
      const name = entries.names[index]!;
      const kind = entries.kind(index);
      if (!name.startsWith(CONTENT_PREFIX)) {
        if (kind === "directory") continue;
        if (input.dumpEntries.has(name) || input.alreadyChecked?.has(name)) continue;
        // The meta is held whole, as a settings restore holds it, so the same size bound refuses an oversized one.
        items.push(check(index, { returnData: name === META_ENTRY }));
        continue;
      }
      const relative = name.slice(CONTENT_PREFIX.length, name.endsWith("/") ? -1 : undefined);
      if (!relative) continue;
      if (plan.isKept(relative)) {
        if (kind !== "directory") items.push(check(index));
        continue;
      }
      // Names were checked (no empty, . or .. segments), so joining by hand is exact.
      const target = `${paths.tree}${path.sep}${path.sep === "/" ? relative : relative.split("/").join(path.sep)}`;
      if (kind === "directory") {
        ensureFolder(target);
        folders.push({ target, index });
      } else {
        ensureFolder(path.dirname(target));
        if (kind === "symlink") {
          links.push({ target, index });
          items.push(check(index, { returnData: true }));
        } else {
          items.push(check(index, { targetRoot: paths.tree, mode: entries.modes[index]! & FILE_MODE_BITS, mtimeMs: entries.mtimes[index]!, owner }));
        }
      }
    }
  } catch (error) {
    throw stagingError(new EntryFailure(paths.tree, false, (error as Error).message, (error as NodeJS.ErrnoException).code), paths.tree);
  }
  const dumps = new Map<string, string>();
  for (let index = 0; index < entries.count; index++) {
    const name = entries.names[index]!;
    if (!input.dumpEntries.has(name) || name.startsWith(CONTENT_PREFIX)) continue;
    const target = path.join(paths.dumps, `${dumps.size}.sql`);
    dumps.set(name, target);
    items.push(check(index, { target, mode: 0o600, mtimeMs: entries.mtimes[index]! }));
  }

  let content: Map<string, Buffer>;
  try {
    content = await extractEntries(input.source, input.zip, items, { onProgress: input.onProgress, signal: input.signal, pool: input.pool, digests: entries });
  } catch (error) {
    throw stagingError(error, paths.tree);
  }

  for (const { target, index } of links) {
    const name = entries.names[index]!;
    const linkTarget = content.get(name)!.toString("utf8");
    const expected = entries.linkTargets.get(index);
    if (linkTarget !== expected) {
      throw new AppBackupError("BACKUP_CORRUPT", `The symlink ${name} points to ${JSON.stringify(linkTarget)} in the zip but to ${JSON.stringify(expected)} in the manifest; nothing was changed.`);
    }
    try {
      symlinkSync(linkTarget, target);
      if (owner) lchownSync(target, owner.uid, owner.gid);
      lutimesSync(target, exactTime(entries.mtimes[index]!), exactTime(entries.mtimes[index]!));
    } catch (error) {
      throw stagingError(new EntryFailure(name, false, (error as Error).message, (error as NodeJS.ErrnoException).code), paths.tree);
    }
  }
  // Deepest first: setting a folder's time must come after everything inside it is written.
  folders.sort((a, b) => depth(entries.names[b.index]!) - depth(entries.names[a.index]!));
  for (const { target, index } of folders) {
    chmodSync(target, entries.modes[index]! & FOLDER_MODE_BITS);
    if (owner) lchownSync(target, owner.uid, owner.gid);
    utimesSync(target, exactTime(entries.mtimes[index]!), exactTime(entries.mtimes[index]!));
  }
  chmodSync(paths.tree, input.homeMode & FOLDER_MODE_BITS);
  if (owner) lchownSync(paths.tree, owner.uid, owner.gid);

  let files = 0;
  let bytes = 0;
  for (const item of items) {
    if (!item.targetRoot) continue;
    files++;
    bytes += input.zip.table.sizes[item.zipIndex]!;
  }
  return { dumps, files, bytes };
}

const depth = (name: string) => {
  let count = 0;
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) count++;
  return count;
};

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
