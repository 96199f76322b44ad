import type { EntryTable } from "../archive/entry-table.js";
import { FLAG_ENCRYPTED, METHOD_DEFLATE, METHOD_STORE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../archive/zip-format.js";
import type { ZipIndex } from "../archive/zip-index.js";
import { AppBackupError } from "../errors.js";
import { nameProblem } from "../format/entry-name.js";
import { CONTENT_PREFIX } from "../format/zip-layout.js";

/** What is wrong with one entry of a zip. */
export interface EntryProblem {
  name: string;
  problem: string;
}

/** Linux limit on a whole path (PATH_MAX, with its NUL). */
const MAX_PATH_BYTES = 4095;

/**
 * Checks a zip's central directory for anything that could write outside the
 * target, through a link, or something the file system cannot hold. Runs
 * before a byte is written.
 *
 * Names that differ only in case are accepted: a Linux home can hold both
 * `Readme` and `README`, and its backup must restore. On a case-insensitive
 * file system the second one fails to be created (files are created with
 * O_EXCL), which fails the restore before the switch.
 *
 * `roots` are the folders content is written under (the staging tree), for the
 * path-length check.
 */
export function archiveProblems(zip: ZipIndex, options: { roots?: string[] } = {}): EntryProblem[] {
  const { table } = zip;
  const problems: EntryProblem[] = [];
  /** Entry index by path (without a folder's trailing slash). */
  const byPath = new Map<string, number>();
  const rootBytes = Math.max(0, ...(options.roots ?? []).map((root) => Buffer.byteLength(root) + 1));

  for (let index = 0; index < table.count; index++) {
    const name = table.names[index]!;
    const problem = nameProblem(name) ?? typeProblem(table, index) ?? formatProblem(table, index);
    if (problem) {
      problems.push({ name, problem });
      continue;
    }
    const key = name.endsWith("/") ? name.slice(0, -1) : name;
    if (byPath.has(key)) {
      problems.push({ name, problem: "the zip holds this name twice" });
      continue;
    }
    byPath.set(key, index);
    // UTF-16 units take at most 3 bytes each in UTF-8: only long names need counting.
    if (rootBytes + key.length * 3 > MAX_PATH_BYTES && name.startsWith(CONTENT_PREFIX) && rootBytes + Buffer.byteLength(key) - CONTENT_PREFIX.length > MAX_PATH_BYTES) {
      problems.push({ name, problem: `the path would be longer than the ${MAX_PATH_BYTES} bytes the file system allows` });
    }
  }

  // Folders already known to have only folders (or nothing) above them: most entries share their parent's answer.
  const clearFolders = new Set<string>();
  for (const [key, index] of byPath) {
    const cut = key.lastIndexOf("/");
    if (cut < 0) continue;
    const blocker = blockingAncestor(key.slice(0, cut), byPath, table, clearFolders);
    if (blocker !== undefined) {
      const blockerName = table.names[blocker]!;
      problems.push({
        name: table.names[index]!,
        problem: table.kind(blocker) === "symlink" ? `it would be written through the symlink ${blockerName} of the same zip` : `${blockerName} is a file in the same zip, so it cannot be a folder`,
      });
    }
  }
  problems.push(...overlaps(zip));
  return problems;
}

/** The nearest symlink or file among `folder` and its ancestors, if any. */
function blockingAncestor(folder: string, byPath: Map<string, number>, table: EntryTable, clearFolders: Set<string>): number | undefined {
  const unchecked: string[] = [];
  let current = folder;
  for (;;) {
    if (clearFolders.has(current)) break;
    const index = byPath.get(current);
    if (index !== undefined && table.kind(index) !== "directory") return index;
    unchecked.push(current);
    const cut = current.lastIndexOf("/");
    if (cut < 0) break;
    current = current.slice(0, cut);
  }
  for (const clear of unchecked) clearFolders.add(clear);
  return undefined;
}

function typeProblem(table: EntryTable, index: number): string | undefined {
  const mode = table.modes[index]!;
  const type = mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK) {
    return `its mode ${mode.toString(8)} is not a regular file, folder or symlink (device, FIFO, socket or unknown type)`;
  }
  const isDirectory = table.names[index]!.endsWith("/");
  if (isDirectory !== (type === S_IFDIR)) {
    return isDirectory ? "the name ends with / but the mode is not a folder's" : "the mode is a folder's but the name does not end with /";
  }
  const size = table.sizes[index]!;
  if (type === S_IFDIR && size !== 0) return "a folder entry with content";
  if (type === S_IFLNK && (size === 0 || size > MAX_PATH_BYTES)) return `a symlink target of ${size} bytes`;
  return undefined;
}

function formatProblem(table: EntryTable, index: number): string | undefined {
  if (table.flags[index]! & FLAG_ENCRYPTED) return "the entry is encrypted";
  const method = table.methods[index]!;
  if (method !== METHOD_STORE && method !== METHOD_DEFLATE) return `compression method ${method} is not supported (only stored and deflated)`;
  return undefined;
}

/**
 * Entry data must lie one after another, before the central directory:
 * overlapping data (the same bytes claimed twice) is a classic zip-bomb trick.
 */
function overlaps(zip: ZipIndex): EntryProblem[] {
  const { table } = zip;
  const order = Array.from({ length: table.count }, (_, i) => i).sort((a, b) => table.offsets[a]! - table.offsets[b]!);
  const problems: EntryProblem[] = [];
  for (let i = 0; i < order.length; i++) {
    const index = order[i]!;
    const next = i + 1 < order.length ? table.offsets[order[i + 1]!]! : zip.dataLimit;
    // 30 bytes of local header plus the name at the least (a name has at least as many bytes as UTF-16 units).
    if (table.offsets[index]! + 30 + table.names[index]!.length + table.compressedSizes[index]! > next) {
      problems.push({ name: table.names[index]!, problem: "its data overlaps the next entry's" });
    }
  }
  return problems;
}

export function hostileArchiveError(problems: EntryProblem[], zip: string): AppBackupError {
  const shown = problems.slice(0, 20).map((p) => `- ${JSON.stringify(p.name)}: ${p.problem}`);
  if (problems.length > shown.length) shown.push(`- and ${problems.length - shown.length} more`);
  return new AppBackupError(
    "ARCHIVE_HOSTILE",
    `The zip ${zip} is refused; nothing was written:\n${shown.join("\n")}`,
    "This zip was not written by app-backup or was altered. Restore a backup you trust.",
  );
}
