import { accessSync, constants, lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from "node:fs";
import path from "node:path";
import { byCodeUnits } from "../code-unit-order.js";
import type { PathFilter } from "./filter.js";
import { homeUnreadable, reasonOf } from "./unreadable.js";

/** One thing found under the home, as it will be archived. */
export interface PlannedEntry {
  /** Path relative to the home, `/`-separated; never empty. */
  path: string;
  kind: "file" | "directory" | "symlink";
  size: number;
  mtime: Date;
  mode: number;
  linkTarget?: string;
}

/**
 * An entry's fields as the walk finds them, handed over one by one: a caller
 * that only encodes them (the spool) makes no object per entry. `mtimeMs` is
 * whole milliseconds, as `Stats.mtime` rounds them.
 */
export type EntryFields = (path: string, kind: PlannedEntry["kind"], size: number, mtimeMs: number, mode: number, linkTarget: string | undefined) => void;

/** What a walk reports as it goes, in walk order (each folder's names sorted, a folder before what it holds). */
export interface WalkVisitor {
  entry(entry: PlannedEntry): void;
  /** A path that could not be read, with the reason ("." for a folder of the home itself). */
  unreadable?(path: string, reason: string): void;
  /** Something that cannot go into a backup (socket, FIFO, device). */
  ignored?(path: string, reason: string): void;
}

/** A {@link WalkVisitor} that takes each entry's fields rather than an object. */
export interface WalkFieldVisitor extends Omit<WalkVisitor, "entry"> {
  entry: EntryFields;
}

export interface WalkOptions {
  /** Absolute paths left out with everything under them. */
  exclude?: (absolute: string) => boolean;
}

export interface WalkResult extends WalkTotals {
  entries: PlannedEntry[];
}

const IGNORED_REASON = "not a regular file, folder or symlink (socket, FIFO or device)";

/** The entry object of a walk's fields. */
export function plannedEntry(path: string, kind: PlannedEntry["kind"], size: number, mtimeMs: number, mode: number, linkTarget: string | undefined): PlannedEntry {
  const mtime = new Date(mtimeMs);
  return linkTarget === undefined ? { path, kind, size, mtime, mode } : { path, kind, size, mtime, mode, linkTarget };
}

/**
 * Walks the home without following symlinks, so a link to `/etc` is recorded as a
 * link and never pulls the host into the backup, and hands each entry to the
 * visitor as it is found: what the visitor keeps is all the walk holds, so a
 * home of millions of files costs only what the caller chooses to keep.
 * Synchronous calls: for tens of thousands of small directories they are
 * markedly faster than the promise API.
 */
export function visitHome(home: string, filter: PathFilter, visitor: WalkVisitor, options: WalkOptions = {}): void {
  visitHomeFields(
    home,
    filter,
    {
      entry: (path, kind, size, mtimeMs, mode, linkTarget) => visitor.entry(plannedEntry(path, kind, size, mtimeMs, mode, linkTarget)),
      unreadable: visitor.unreadable && ((path, reason) => visitor.unreadable!(path, reason)),
      ignored: visitor.ignored && ((path, reason) => visitor.ignored!(path, reason)),
    },
    options,
  );
}

/**
 * {@link visitHome} for a caller that takes the fields of each entry. A walk
 * costs a `readdir` per folder and an `lstat` per entry; what it adds in
 * JavaScript (joining paths, a `Date` per entry) is kept out of that loop:
 * children's paths are the folder's path and the name, and the time is the
 * `lstat`'s number, rounded as `Stats.mtime` rounds it.
 */
export function visitHomeFields(home: string, filter: PathFilter, visitor: WalkFieldVisitor, options: WalkOptions = {}): void {
  const exclude = options.exclude;
  const filtering = !filter.isEmpty;
  const visit = (absolute: string, relative: string) => {
    let names: string[];
    try {
      names = readdirSync(absolute);
    } catch (error) {
      visitor.unreadable?.(relative || ".", reasonOf(error));
      return;
    }
    names.sort();
    // `absolute` is normalized and a name holds no separator: this is what path.join would give.
    const absolutePrefix = absolute.endsWith(path.sep) ? absolute : absolute + path.sep;
    const relativePrefix = relative ? relative + "/" : "";
    for (const name of names) {
      const childRelative = relativePrefix + name;
      const childAbsolute = absolutePrefix + name;
      if ((filtering && filter.excludes(childRelative)) || (exclude !== undefined && exclude(childAbsolute))) continue;
      let stats: Stats;
      try {
        stats = lstatSync(childAbsolute);
      } catch (error) {
        visitor.unreadable?.(childRelative, reasonOf(error));
        continue;
      }
      if (stats.isFile()) {
        visitor.entry(childRelative, "file", stats.size, Math.round(stats.mtimeMs), stats.mode, undefined);
      } else if (stats.isDirectory()) {
        visitor.entry(childRelative, "directory", 0, Math.round(stats.mtimeMs), stats.mode, undefined);
        visit(childAbsolute, childRelative);
      } else if (stats.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(childAbsolute);
        } catch (error) {
          visitor.unreadable?.(childRelative, reasonOf(error));
          continue;
        }
        visitor.entry(childRelative, "symlink", Buffer.byteLength(target), Math.round(stats.mtimeMs), stats.mode, target);
      } else {
        visitor.ignored?.(childRelative, IGNORED_REASON);
      }
    }
  };
  try {
    // The home itself unreadable is no partial backup: nothing of the app would be in it.
    accessSync(home, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw homeUnreadable(home, error);
  }
  visit(path.normalize(home), "");
}

/** What a names-only walk reports: each path and its kind, and the paths it could not read or that no backup holds. */
export interface NameVisitor {
  entry(relative: string, kind: PlannedEntry["kind"]): void;
  unreadable?(relative: string, reason: string): void;
  ignored?(relative: string, reason: string): void;
}

/**
 * The home's paths and kinds, in {@link visitHomeFields}' order, from the
 * folders' listings alone: a restore's plan needs no size, time or link
 * target of the old home, and an `lstat` per entry was a tenth of a 250k
 * restore's main thread. A file system that does not give an entry's type in
 * its listing gets an `lstat` for that entry. A path for which `skip` is true
 * is left out with everything under it.
 */
export function visitHomeNames(home: string, visitor: NameVisitor, skip: (relative: string) => boolean): void {
  const visit = (absolute: string, relative: string) => {
    let children: Dirent[];
    try {
      children = readdirSync(absolute, { withFileTypes: true });
    } catch (error) {
      visitor.unreadable?.(relative || ".", reasonOf(error));
      return;
    }
    children.sort((a, b) => byCodeUnits(a.name, b.name));
    const absolutePrefix = absolute.endsWith(path.sep) ? absolute : absolute + path.sep;
    const relativePrefix = relative ? relative + "/" : "";
    for (const child of children) {
      const childRelative = relativePrefix + child.name;
      if (skip(childRelative)) continue;
      let kind = kindOf(child);
      if (kind === undefined) {
        try {
          kind = kindOf(lstatSync(absolutePrefix + child.name));
        } catch (error) {
          visitor.unreadable?.(childRelative, reasonOf(error));
          continue;
        }
      }
      if (kind === "other") {
        visitor.ignored?.(childRelative, IGNORED_REASON);
        continue;
      }
      visitor.entry(childRelative, kind ?? "file");
      if (kind === "directory") visit(absolutePrefix + child.name, childRelative);
    }
  };
  try {
    accessSync(home, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw homeUnreadable(home, error);
  }
  visit(path.normalize(home), "");
}

/** An entry's kind from its listing or its `lstat`; undefined when a listing does not say. */
function kindOf(entry: Dirent | Stats): PlannedEntry["kind"] | "other" | undefined {
  if (entry.isFile()) return "file";
  if (entry.isDirectory()) return "directory";
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return "other";
  return undefined;
}

/** What a walk found besides its entries: totals, and the few paths that could not go in. */
export interface WalkTotals {
  /** Bytes of regular-file content (symlink targets count as their length). */
  contentBytes: number;
  files: number;
  /** Paths that could not be read during the walk, with the reason. */
  unreadable: Array<{ path: string; reason: string }>;
  /** Things that cannot go into a backup (sockets, FIFOs, devices), named in the log. */
  ignored: Array<{ path: string; reason: string }>;
}

/** Walks the home, handing each entry to `keep` and adding up the totals. */
export function tallyHome(home: string, filter: PathFilter, keep: (entry: PlannedEntry) => void, options: WalkOptions = {}): WalkTotals {
  return tallyHomeFields(home, filter, (path, kind, size, mtimeMs, mode, linkTarget) => keep(plannedEntry(path, kind, size, mtimeMs, mode, linkTarget)), options);
}

/** {@link tallyHome} for a caller that takes the fields of each entry. */
export function tallyHomeFields(home: string, filter: PathFilter, keep: EntryFields, options: WalkOptions = {}): WalkTotals {
  const tally = tallying(keep);
  visitHomeFields(home, filter, tally.visitor, options);
  return tally.totals;
}

/**
 * A visitor that hands each entry's fields to `keep` and adds up the walk's
 * totals as it goes: symlink targets count in the content bytes, only regular
 * files in `files`. Every medium's walk (local, SFTP, Kudu) counts through it.
 */
export function tallying(keep: EntryFields): { visitor: WalkFieldVisitor; totals: WalkTotals } {
  const totals: WalkTotals = { contentBytes: 0, files: 0, unreadable: [], ignored: [] };
  const visitor: WalkFieldVisitor = {
    entry(path, kind, size, mtimeMs, mode, linkTarget) {
      keep(path, kind, size, mtimeMs, mode, linkTarget);
      totals.contentBytes += size;
      if (kind === "file") totals.files += 1;
    },
    unreadable: (path, reason) => totals.unreadable.push({ path, reason }),
    ignored: (path, reason) => totals.ignored.push({ path, reason }),
  };
  return { visitor, totals };
}

/** The whole walk in memory: for small trees and tests; large homes go through {@link visitHome}. */
export function walkHome(home: string, filter: PathFilter, options: WalkOptions = {}): WalkResult {
  const entries: PlannedEntry[] = [];
  return { entries, ...tallyHome(home, filter, (entry) => entries.push(entry), options) };
}
