import { accessSync, constants, lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import path from "node:path";
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

/** What a walk reports as it goes, in walk order (each folder's names sorted, a folder before what it holds). */
export interface WalkVisitor {
  entry(entry: PlannedEntry): void;
  /** A path that could not be read, with the reason ("." for a folder of the home itself). */
  unreadable?(path: string, reason: string): void;
  /** Something that cannot go into a backup (socket, FIFO, device). */
  ignored?(path: string, reason: string): void;
}

export interface WalkOptions {
  /** Absolute paths left out with everything under them. */
  exclude?: (absolute: string) => boolean;
}

export interface WalkResult extends WalkTotals {
  entries: PlannedEntry[];
}

const IGNORED_REASON = "not a regular file, folder or symlink (socket, FIFO or device)";

/**
 * Walks the home without following symlinks, so a link to `/etc` is recorded as a
 * link and never pulls the host into the backup, and hands each entry to the
 * visitor as it is found: what the visitor keeps is all the walk holds, so a
 * home of millions of files costs only what the caller chooses to keep.
 * Synchronous calls: for tens of thousands of small directories they are
 * markedly faster than the promise API.
 */
export function visitHome(home: string, filter: PathFilter, visitor: WalkVisitor, options: WalkOptions = {}): void {
  const visit = (absolute: string, relative: string) => {
    let names: string[];
    try {
      names = readdirSync(absolute);
    } catch (error) {
      visitor.unreadable?.(relative || ".", reasonOf(error));
      return;
    }
    names.sort();
    for (const name of names) {
      const childRelative = relative ? `${relative}/${name}` : name;
      const childAbsolute = path.join(absolute, name);
      if (filter.excludes(childRelative) || options.exclude?.(childAbsolute)) continue;
      let stats: Stats;
      try {
        stats = lstatSync(childAbsolute);
      } catch (error) {
        visitor.unreadable?.(childRelative, reasonOf(error));
        continue;
      }
      if (stats.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(childAbsolute);
        } catch (error) {
          visitor.unreadable?.(childRelative, reasonOf(error));
          continue;
        }
        visitor.entry({ path: childRelative, kind: "symlink", size: Buffer.byteLength(target), mtime: stats.mtime, mode: stats.mode, linkTarget: target });
      } else if (stats.isDirectory()) {
        visitor.entry({ path: childRelative, kind: "directory", size: 0, mtime: stats.mtime, mode: stats.mode });
        visit(childAbsolute, childRelative);
      } else if (stats.isFile()) {
        visitor.entry({ path: childRelative, kind: "file", size: stats.size, mtime: stats.mtime, mode: stats.mode });
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
  visit(home, "");
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
  const totals: WalkTotals = { contentBytes: 0, files: 0, unreadable: [], ignored: [] };
  visitHome(
    home,
    filter,
    {
      entry(entry) {
        keep(entry);
        totals.contentBytes += entry.size;
        if (entry.kind === "file") totals.files += 1;
      },
      unreadable: (path, reason) => totals.unreadable.push({ path, reason }),
      ignored: (path, reason) => totals.ignored.push({ path, reason }),
    },
    options,
  );
  return totals;
}

/** The whole walk in memory: for small trees and tests; large homes go through {@link visitHome}. */
export function walkHome(home: string, filter: PathFilter, options: WalkOptions = {}): WalkResult {
  const entries: PlannedEntry[] = [];
  return { entries, ...tallyHome(home, filter, (entry) => entries.push(entry), options) };
}
