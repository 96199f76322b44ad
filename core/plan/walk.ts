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

export interface WalkResult {
  entries: PlannedEntry[];
  /** Bytes of regular-file content (symlink targets count as their length). */
  contentBytes: number;
  files: number;
  /** Paths that could not be read during the walk, with the reason. */
  unreadable: Array<{ path: string; reason: string }>;
  /** Things that cannot go into a backup (sockets, FIFOs, devices), named in the log. */
  ignored: Array<{ path: string; reason: string }>;
}

/**
 * Walks the home without following symlinks, so a link to `/etc` is recorded as a
 * link and never pulls the host into the backup. Synchronous calls: for tens of
 * thousands of small directories they are markedly faster than the promise API,
 * and the walk is a short, bounded phase.
 */
export function walkHome(home: string, filter: PathFilter, options: { exclude?: (absolute: string) => boolean } = {}): WalkResult {
  const result: WalkResult = { entries: [], contentBytes: 0, files: 0, unreadable: [], ignored: [] };
  const visit = (absolute: string, relative: string) => {
    let names: string[];
    try {
      names = readdirSync(absolute);
    } catch (error) {
      result.unreadable.push({ path: relative || ".", reason: reasonOf(error) });
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
        result.unreadable.push({ path: childRelative, reason: reasonOf(error) });
        continue;
      }
      if (stats.isSymbolicLink()) {
        let target: string;
        try {
          target = readlinkSync(childAbsolute);
        } catch (error) {
          result.unreadable.push({ path: childRelative, reason: reasonOf(error) });
          continue;
        }
        result.entries.push({ path: childRelative, kind: "symlink", size: Buffer.byteLength(target), mtime: stats.mtime, mode: stats.mode, linkTarget: target });
        result.contentBytes += Buffer.byteLength(target);
      } else if (stats.isDirectory()) {
        result.entries.push({ path: childRelative, kind: "directory", size: 0, mtime: stats.mtime, mode: stats.mode });
        visit(childAbsolute, childRelative);
      } else if (stats.isFile()) {
        result.entries.push({ path: childRelative, kind: "file", size: stats.size, mtime: stats.mtime, mode: stats.mode });
        result.contentBytes += stats.size;
        result.files += 1;
      } else {
        result.ignored.push({ path: childRelative, reason: "not a regular file, folder or symlink (socket, FIFO or device)" });
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
  return result;
}
