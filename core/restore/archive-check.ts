import type { EntryTable } from "../archive/entry-table.js";
import { FLAG_ENCRYPTED, METHOD_DEFLATE, METHOD_STORE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../archive/zip-format.js";
import { inZipOrder, zipOrder, type ZipIndex } from "../archive/zip-index.js";
import { NameIndex, type NameTable } from "../archive/name-table.js";
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
  const { names } = table;
  const problems: EntryProblem[] = [];
  /** Entry rows by path (a folder's name without its trailing slash). */
  const byPath = new NameIndex(names, table.count, true);
  /** 1 for the rows filed in byPath (the names with no problem of their own). */
  const filed = new Uint8Array(table.count);
  const rootBytes = Math.max(0, ...(options.roots ?? []).map((root) => Buffer.byteLength(root) + 1));

  for (let index = 0; index < table.count; index++) {
    // The one string made per entry here, checked and let go.
    const name = names.get(index);
    const problem = nameProblem(name) ?? typeProblem(table, index) ?? formatProblem(table, index);
    if (problem) {
      problems.push({ name, problem });
      continue;
    }
    if (byPath.add(index) >= 0) {
      problems.push({ name, problem: "the zip holds this name twice" });
      continue;
    }
    filed[index] = 1;
    const pathBytes = byPath.keyLength(index);
    if (names.startsWith(index, CONTENT_PREFIX) && rootBytes + pathBytes - CONTENT_PREFIX.length > MAX_PATH_BYTES) {
      problems.push({ name, problem: `the path would be longer than the ${MAX_PATH_BYTES} bytes the file system allows` });
    }
  }

  const ancestors = new AncestorCheck(table, byPath);
  for (let index = 0; index < table.count; index++) {
    if (!filed[index]) continue;
    const blocker = ancestors.blocker(index);
    if (blocker !== undefined) {
      const blockerName = names.get(blocker);
      problems.push({
        name: names.get(index),
        problem: table.kind(blocker) === "symlink" ? `it would be written through the symlink ${blockerName} of the same zip` : `${blockerName} is a file in the same zip, so it cannot be a folder`,
      });
    }
  }
  problems.push(...overlaps(zip));
  return problems;
}

/**
 * Finds the nearest symlink or file among an entry's ancestors. Folder
 * entries already known to have only folders (or nothing) above them are
 * marked, and the last clear parent is remembered: entries come folder by
 * folder, so most share their neighbour's answer.
 */
class AncestorCheck {
  private readonly clear: Uint8Array;
  /** The last parent path found clear: its bytes are the first `lastLength` of `lastParent` (-1: none yet). */
  private lastParent = Buffer.alloc(256);
  private lastLength = -1;

  constructor(
    private readonly table: EntryTable,
    private readonly byPath: NameIndex,
  ) {
    this.clear = new Uint8Array(table.count);
  }

  blocker(index: number): number | undefined {
    // Valid until the next `bytes` call on these names: nothing below makes one.
    const bytes = this.table.names.bytes(index);
    let cut = parentEnd(bytes, this.byPath.keyLength(index));
    if (cut < 0) return undefined;
    if (cut === this.lastLength && this.lastParent.compare(bytes, 0, cut, 0, cut) === 0) return undefined;
    const parentLength = cut;
    const unchecked: number[] = [];
    for (; cut >= 0; cut = parentEnd(bytes, cut)) {
      const row = this.byPath.find(bytes, 0, cut);
      if (row >= 0) {
        if (this.table.kinds[row] !== 1) return row;
        if (this.clear[row]) break;
        unchecked.push(row);
      }
    }
    for (const row of unchecked) this.clear[row] = 1;
    if (this.lastParent.length < parentLength) this.lastParent = Buffer.allocUnsafe(parentLength * 2);
    bytes.copy(this.lastParent, 0, 0, parentLength);
    this.lastLength = parentLength;
    return undefined;
  }
}

/** Where the path `name[0, end)` has its last `/` (the end of its parent), or -1 at the top. */
function parentEnd(name: Buffer, end: number): number {
  for (let at = end - 1; at > 0; at--) if (name[at] === SLASH) return at;
  return -1;
}

const SLASH = 0x2f;

function typeProblem(table: EntryTable, index: number): string | undefined {
  const mode = table.modes[index]!;
  const type = mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK) {
    return `its mode ${mode.toString(8)} is not a regular file, folder or symlink (device, FIFO, socket or unknown type)`;
  }
  const isDirectory = table.names.lastByte(index) === SLASH;
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
  // Rows already in data order (the usual case) are read as they are: no order is held.
  const order = inZipOrder(table) ? undefined : zipOrder(table);
  const rowAt = (i: number) => (order ? order[i]! : i);
  const problems: EntryProblem[] = [];
  for (let i = 0; i < table.count; i++) {
    const index = rowAt(i);
    const next = i + 1 < table.count ? table.offsets[rowAt(i + 1)]! : zip.dataLimit;
    // 30 bytes of local header plus the name at the least (a name has at least as many bytes as code points).
    if (table.offsets[index]! + 30 + codePoints(table.names, index) + table.compressedSizes[index]! > next) {
      problems.push({ name: table.name(index), problem: "its data overlaps the next entry's" });
    }
  }
  return problems;
}

/** Code points of a name: the bytes that do not continue a UTF-8 sequence. */
function codePoints(names: NameTable, row: number): number {
  const bytes = names.bytes(row);
  let count = 0;
  for (let at = 0; at < bytes.length; at++) if ((bytes[at]! & 0xc0) !== 0x80) count++;
  return count;
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
