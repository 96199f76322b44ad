import type { EntryTable } from "../archive/entry-table.js";
import { FLAG_ENCRYPTED, METHOD_DEFLATE, METHOD_STORE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../archive/zip-format.js";
import type { ZipIndex } from "../archive/zip-index.js";
import { AppBackupError } from "../errors.js";

/** What is wrong with one entry of a zip. */
export interface EntryProblem {
  name: string;
  problem: string;
}

/** Linux limits: a name component (NAME_MAX) and a whole path (PATH_MAX, with its NUL). */
const MAX_COMPONENT_BYTES = 255;
const MAX_PATH_BYTES = 4095;

/** Site content lives under this prefix in the zip, as in Azure's backups. */
export const CONTENT_PREFIX = "fs/";

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

export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "the name is empty";
  const first = name.charCodeAt(0);
  if (first === 47 || first === 92) return "the name is an absolute path";
  if (name.length >= 2 && name.charCodeAt(1) === 58 && ((first | 32) >= 97 && (first | 32) <= 122)) return "the name starts with a drive letter";
  const end = name.endsWith("/") ? name.length - 1 : name.length;
  // Backslashes are separators on Windows: a `..\` segment escapes there, so it is refused everywhere.
  let segmentStart = 0;
  let componentStart = 0;
  for (let i = 0; i <= end; i++) {
    const code = i === end ? 47 : name.charCodeAt(i);
    if (code === 0) return "the name contains a NUL character";
    if (code !== 47 && code !== 92) continue;
    const length = i - segmentStart;
    if (length === 0) return "the name has an empty or . path segment";
    if (length <= 2 && name.charCodeAt(segmentStart) === 46) {
      if (length === 1) return "the name has an empty or . path segment";
      if (name.charCodeAt(segmentStart + 1) === 46) return "the name escapes the target folder with ..";
    }
    segmentStart = i + 1;
    if (code === 47) {
      // A component of up to 85 UTF-16 units cannot exceed 255 bytes; only longer ones need counting.
      if (i - componentStart > 85 && Buffer.byteLength(name.slice(componentStart, i)) > MAX_COMPONENT_BYTES) {
        return `a path component is longer than the ${MAX_COMPONENT_BYTES} bytes a file name may have`;
      }
      componentStart = i + 1;
    }
  }
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
