import { lstatSync } from "node:fs";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { AppBackupError } from "../errors.js";
import { PathFilter } from "../plan/filter.js";
import type { SpooledWalk } from "../plan/planned-entries.js";
import { visitHomeNames, type NameVisitor } from "../plan/walk.js";
import { NameIndex } from "../archive/name-table.js";
import { CONTENT_PREFIX } from "../format/zip-layout.js";
import { byCodeUnits } from "../code-unit-order.js";

/** A path of the target's home left as it is, and why. */
export interface KeptPath {
  /** Relative to the home, `/`-separated. */
  path: string;
  reason: "filter" | "backup container";
}

/** Paths a plan (and a restore's result) lists of each kind at most; the counts are exact. */
export const PATH_LIST_LIMIT = 1000;

/** Some paths of a long list, and how many there are in all. */
export interface BoundedPaths {
  /** The first paths, in walk order (at most the list limit). */
  paths: string[];
  count: number;
}

/** What a restore does to the target home; folders end with `/`. */
export interface TargetPlan {
  home: string;
  homeExists: boolean;
  /** Paths the backup writes (every file, folder and link of its `fs/` tree not under a kept path): the first ones, and how many. */
  written: BoundedPaths;
  /** Paths of the current home that are not in the backup and not kept: the first ones, and how many. */
  deleted: BoundedPaths;
  /** Top-most paths of the current home that the restore leaves untouched. */
  kept: KeptPath[];
  /** True when `relative` (a content path) is a kept path or inside one. */
  isKept(relative: string): boolean;
  /** True when the manifest's row `index` is a content entry at or under a kept path. */
  keepsEntry(index: number): boolean;
}

/**
 * The home a restore replaces, as the plan reads it: a local folder, or a
 * remote home's walk (see RemoteRestoreTarget.listCurrent).
 */
export interface CurrentHome {
  /** Where it is, for messages. */
  home: string;
  exists: boolean;
  /**
   * Visits every path of the home in walk order, the home-relative `/`-separated
   * path of each with its kind; a path for which `skip` is true is left out with everything under it.
   */
  visit(visitor: NameVisitor, skip: (relative: string) => boolean): void;
}

/** A local folder as the home a restore replaces. */
export function localCurrentHome(home: string): CurrentHome {
  return {
    home,
    exists: lstatSync(home, { throwIfNoEntry: false })?.isDirectory() ?? false,
    visit: (visitor, skip) => visitHomeNames(home, visitor, skip),
  };
}

/** A walk spooled in walk order (folders before what they hold) as the home a restore replaces. */
export function spooledCurrentHome(home: string, exists: boolean, walk: SpooledWalk): CurrentHome {
  return {
    home,
    exists,
    visit(visitor, skip) {
      // The walk is flat: a skipped folder's descendants follow it and share its path as a prefix.
      let skipped: string | undefined;
      for (const entry of walk.entries) {
        if (skipped !== undefined && entry.path.startsWith(skipped)) continue;
        skipped = undefined;
        if (skip(entry.path)) {
          if (entry.kind === "directory") skipped = `${entry.path}/`;
          continue;
        }
        visitor.entry(entry.path, entry.kind);
      }
      for (const item of walk.unreadable) if (!skip(item.path)) visitor.unreadable?.(item.path, item.reason);
      for (const item of walk.ignored) if (!skip(item.path)) visitor.ignored?.(item.path, item.reason);
    },
  };
}

/**
 * Compares the current home with the backup's tree. A partial backup's filter
 * lines keep the paths they match in the target (same matching as the backup
 * used); a local backup container inside the home is kept too, as the backup
 * never includes it.
 *
 * Nothing is held per path: the old home is walked once and each of its paths
 * looked up among the backup's names; written paths are the backup's content
 * entries. Only the first `listLimit` paths of each kind are kept, to show.
 */
export function planTarget(target: string | CurrentHome, entries: EntryTable, filterLines: string[], protectedPaths: string[], listLimit = PATH_LIST_LIMIT): TargetPlan {
  const current = typeof target === "string" ? localCurrentHome(target) : target;
  const { home, exists: homeExists } = current;
  const filter = new PathFilter(filterLines, "the backup's filter");
  const kept: KeptPath[] = [];
  const protectedRelative = new Set(
    protectedPaths
      .map((p) => path.relative(home, path.resolve(p)))
      .filter((p) => p && !p.startsWith("..") && !path.isAbsolute(p))
      .map((p) => p.split(path.sep).join("/")),
  );
  const deleted = homeExists
    ? oldPathsNotInBackup(current, entries, listLimit, (relative) => {
        if (protectedRelative.has(relative)) {
          kept.push({ path: relative, reason: "backup container" });
          return true;
        }
        if (!filter.isEmpty && filter.excludes(relative)) {
          kept.push({ path: relative, reason: "filter" });
          return true;
        }
        return false;
      })
    : { paths: [], count: 0 };
  const keptSet = new Set(kept.map((k) => k.path));
  const isKept = (relative: string) => {
    if (keptSet.size === 0) return false;
    for (let at = relative.indexOf("/"); at >= 0; at = relative.indexOf("/", at + 1)) {
      if (keptSet.has(relative.slice(0, at))) return true;
    }
    return keptSet.has(relative);
  };

  refuseKeptBehindNonFolders(home, entries, kept);

  // 1 for content rows under a kept path; only made when something is kept.
  const keptRows = keptSet.size ? new Uint8Array(entries.count) : undefined;
  const written: BoundedPaths = { paths: [], count: 0 };
  const { names } = entries;
  for (let index = 0; index < entries.count; index++) {
    if (!names.startsWith(index, CONTENT_PREFIX) || names.length(index) === CONTENT_PREFIX.length) continue;
    if (keptRows) {
      const relative = names.get(index).slice(CONTENT_PREFIX.length).replace(/\/$/, "");
      if (isKept(relative)) {
        keptRows[index] = 1;
        continue;
      }
    }
    // Walk order, as the backup listed them.
    if (written.count++ < listLimit) written.paths.push(names.get(index).slice(CONTENT_PREFIX.length));
  }
  return {
    home,
    homeExists,
    written,
    deleted,
    kept: kept.sort((a, b) => byCodeUnits(a.path, b.path)),
    isKept,
    keepsEntry: (index) => keptRows?.[index] === 1,
  };
}

/**
 * Walks the old home (skipping what `exclude` keeps) and counts the paths the
 * backup does not have, each looked up among the backup's content names by
 * its bytes (a file and a folder of the same path meet: it is replaced, not
 * deleted). Entries come first in walk order, then what could not be read or
 * cannot be backed up, as restores have always listed them.
 */
function oldPathsNotInBackup(current: CurrentHome, entries: EntryTable, listLimit: number, skip: (relative: string) => boolean): BoundedPaths {
  const { names } = entries;
  let inBackup: NameIndex | undefined;
  // `fs/` and then an old path, encoded in place for each lookup.
  let scratch = Buffer.alloc(4096);
  scratch.write(CONTENT_PREFIX, 0, "latin1");
  const backupHas = (relative: string): boolean => {
    if (!inBackup) {
      // Built on the first old path: an empty old home needs none.
      inBackup = new NameIndex(names, entries.count, true);
      for (let index = 0; index < entries.count; index++) if (names.startsWith(index, CONTENT_PREFIX)) inBackup.add(index);
    }
    const length = CONTENT_PREFIX.length + relative.length * 3;
    if (scratch.length < length) {
      scratch = Buffer.alloc(Math.max(length, scratch.length * 2));
      scratch.write(CONTENT_PREFIX, 0, "latin1");
    }
    const end = CONTENT_PREFIX.length + scratch.write(relative, CONTENT_PREFIX.length, "utf8");
    return inBackup.find(scratch, 0, end) >= 0;
  };

  const deleted: BoundedPaths = { paths: [], count: 0 };
  const others: BoundedPaths = { paths: [], count: 0 };
  const note = (list: BoundedPaths, shown: string) => {
    if (list.count++ < listLimit) list.paths.push(shown);
  };
  current.visit(
    {
      entry: (relative, kind) => {
        if (!backupHas(relative)) note(deleted, kind === "directory" ? `${relative}/` : relative);
      },
      ignored: (relative) => {
        if (!backupHas(relative)) note(others, relative);
      },
      unreadable: (relative) => {
        if (relative !== "." && !backupHas(relative)) note(others, relative);
      },
    },
    skip,
  );
  deleted.paths.push(...others.paths.slice(0, Math.max(0, listLimit - deleted.paths.length)));
  deleted.count += others.count;
  return deleted;
}

/**
 * A kept path stays where it is in the home, so every folder above it must
 * stay a folder. When the backup has one of those as a symlink or a file,
 * keeping the path would mean moving it into that link (out of the home) or
 * losing it: the restore is refused before anything changes, and the dry run
 * says so the same way.
 */
function refuseKeptBehindNonFolders(home: string, entries: EntryTable, kept: KeptPath[]): void {
  if (kept.length === 0) return;
  const keptParents = new Set<string>();
  for (const { path: relative } of kept) {
    for (let at = relative.indexOf("/"); at >= 0; at = relative.indexOf("/", at + 1)) keptParents.add(relative.slice(0, at));
  }
  if (keptParents.size === 0) return;
  const blockers = new Map<string, string>();
  for (let index = 0; index < entries.count; index++) {
    if (!entries.names.startsWith(index, CONTENT_PREFIX)) continue;
    const kind = entries.kind(index);
    if (kind === "directory") continue;
    const relative = entries.name(index).slice(CONTENT_PREFIX.length);
    if (!keptParents.has(relative)) continue;
    blockers.set(relative, kind === "symlink" ? `a symlink (to ${JSON.stringify(entries.linkTargets.get(index) ?? "")})` : "a file");
  }
  if (blockers.size === 0) return;
  const conflicts: string[] = [];
  for (const { path: relative, reason } of kept) {
    const segments = relative.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join("/");
      const what = blockers.get(parent);
      if (!what) continue;
      conflicts.push(`${relative} (${reason === "filter" ? "matched by the backup's filter" : "the local backup container"}) is under ${parent}, which the backup restores as ${what}`);
      break;
    }
  }
  const shown = conflicts.slice(0, 10).map((line) => `  - ${line}`);
  if (conflicts.length > shown.length) shown.push(`  - and ${conflicts.length - shown.length} more`);
  throw new AppBackupError(
    "RESTORE",
    `The restore into ${home} is refused: paths it must keep as they are would end up under a symlink or a file of the backup, outside the home or lost:\n${shown.join("\n")}\nNothing was changed.`,
    "Move those paths out of the home (or delete them) if the backup's version should replace them, then run the restore again; or restore a backup in which their folders are folders.",
  );
}
