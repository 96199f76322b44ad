import { chmodSync, lchownSync, lutimesSync, mkdirSync, symlinkSync, utimesSync } from "node:fs";
import path from "node:path";
import type { ArchiveEntry } from "../archive/types.js";
import type { ZipEntryInfo } from "../archive/zip-reader.js";
import { AppBackupError } from "../errors.js";
import type { BackupManifest } from "../manifest/manifest.js";
import { CONTENT_PREFIX } from "./archive-check.js";
import { exactTime } from "./fs-steps.js";
import { EntryFailure, extractEntries, type ExtractItem, type ExtractProgress } from "./extract.js";
import type { ExtractPool } from "./extract-pool.js";
import type { RestorePaths } from "./journal.js";
import type { ZipByteSource } from "./store-source.js";
import type { TargetPlan } from "./target-plan.js";

export interface StageInput {
  source: ZipByteSource;
  zipEntries: readonly ZipEntryInfo[];
  manifest: BackupManifest;
  paths: RestorePaths;
  plan: TargetPlan;
  /** Database dump entries to write beside the tree for loading. */
  dumpEntries: ReadonlySet<string>;
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
  /** The backup's `meta` entry, checked. */
  meta?: Buffer;
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
  const { paths, plan, owner } = input;
  const zipEntryOf = pairing(input.manifest.entries, input.zipEntries);
  mkdirSync(paths.tree, { mode: 0o700 });
  if (input.dumpEntries.size > 0) mkdirSync(paths.dumps, { mode: 0o700 });

  const folders: Array<{ target: string; entry: ArchiveEntry }> = [];
  const links: Array<{ target: string; entry: ArchiveEntry }> = [];
  const items: ExtractItem[] = [];
  const created = new Set<string>([paths.tree]);
  const ensureFolder = (folder: string) => {
    if (created.has(folder)) return;
    ensureFolder(path.dirname(folder));
    mkdirSync(folder, { mode: 0o700 });
    created.add(folder);
  };

  const entries = input.manifest.entries;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (!entry.name.startsWith(CONTENT_PREFIX)) continue;
    const relative = entry.name.slice(CONTENT_PREFIX.length, entry.name.endsWith("/") ? -1 : undefined);
    const zipEntry = zipEntryOf(index);
    if (!relative) continue;
    if (plan.isKept(relative)) {
      if (entry.kind !== "directory") items.push({ entry: zipEntry, sha256: entry.sha256 });
      continue;
    }
    // Names were checked (no empty, . or .. segments), so joining by hand is exact.
    const target = `${paths.tree}${path.sep}${path.sep === "/" ? relative : relative.split("/").join(path.sep)}`;
    if (entry.kind === "directory") {
      ensureFolder(target);
      folders.push({ target, entry });
    } else {
      ensureFolder(path.dirname(target));
      if (entry.kind === "symlink") {
        links.push({ target, entry });
        items.push({ entry: zipEntry, sha256: entry.sha256, returnData: true });
      } else {
        items.push({ entry: zipEntry, sha256: entry.sha256, target, mode: entry.mode & FILE_MODE_BITS, mtimeMs: entry.mtime.getTime(), owner });
      }
    }
  }
  const dumps = new Map<string, string>();
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (entry.name.startsWith(CONTENT_PREFIX) || entry.kind === "directory") continue;
    const zipEntry = zipEntryOf(index);
    if (input.dumpEntries.has(entry.name)) {
      const target = path.join(paths.dumps, `${dumps.size}.sql`);
      dumps.set(entry.name, target);
      items.push({ entry: zipEntry, sha256: entry.sha256, target, mode: 0o600, mtimeMs: entry.mtime.getTime() });
    } else {
      items.push({ entry: zipEntry, sha256: entry.sha256, returnData: entry.name === "meta" });
    }
  }

  let content: Map<string, Buffer>;
  try {
    content = await extractEntries(input.source, input.zipEntries, items, { onProgress: input.onProgress, signal: input.signal, pool: input.pool });
  } catch (error) {
    throw stagingError(error, paths.tree);
  }

  for (const { target, entry } of links) {
    const linkTarget = content.get(entry.name)!.toString("utf8");
    if (linkTarget !== entry.linkTarget) {
      throw new AppBackupError("BACKUP_CORRUPT", `The symlink ${entry.name} points to ${JSON.stringify(linkTarget)} in the zip but to ${JSON.stringify(entry.linkTarget)} in the manifest; nothing was changed.`);
    }
    try {
      symlinkSync(linkTarget, target);
      if (owner) lchownSync(target, owner.uid, owner.gid);
      lutimesSync(target, exactTime(entry.mtime), exactTime(entry.mtime));
    } catch (error) {
      throw stagingError(new EntryFailure(entry.name, false, (error as Error).message, (error as NodeJS.ErrnoException).code), paths.tree);
    }
  }
  // Deepest first: setting a folder's time must come after everything inside it is written.
  folders.sort((a, b) => depth(b.entry.name) - depth(a.entry.name));
  for (const { target, entry } of folders) {
    chmodSync(target, entry.mode & FOLDER_MODE_BITS);
    if (owner) lchownSync(target, owner.uid, owner.gid);
    utimesSync(target, exactTime(entry.mtime), exactTime(entry.mtime));
  }
  chmodSync(paths.tree, input.homeMode & FOLDER_MODE_BITS);
  if (owner) lchownSync(paths.tree, owner.uid, owner.gid);

  const written = items.filter((i) => i.target && !input.dumpEntries.has(i.entry.name));
  return {
    meta: content.get("meta"),
    dumps,
    files: written.length,
    bytes: written.reduce((sum, i) => sum + i.entry.size, 0),
  };
}

const depth = (name: string) => {
  let count = 0;
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) count++;
  return count;
};

/**
 * The zip entry of each manifest entry (they were checked to be the same set).
 * The manifest lists entries in the zip's order, so this is usually the same
 * index; otherwise it is looked up by name.
 */
function pairing(manifest: readonly ArchiveEntry[], zip: readonly ZipEntryInfo[]): (index: number) => ZipEntryInfo {
  const sameOrder = manifest.length === zip.length && manifest.every((entry, index) => entry.name === zip[index]!.name);
  if (sameOrder) return (index) => zip[index]!;
  const byName = new Map(zip.map((e) => [e.name, e]));
  return (index) => byName.get(manifest[index]!.name)!;
}

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
