import { lstatSync } from "node:fs";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { AppBackupError } from "../errors.js";
import { PathFilter } from "../plan/filter.js";
import { walkHome } from "../plan/walk.js";
import { CONTENT_PREFIX } from "../format/zip-layout.js";

/** A path of the target's home left as it is, and why. */
export interface KeptPath {
  /** Relative to the home, `/`-separated. */
  path: string;
  reason: "filter" | "backup container";
}

/** What a restore does to the target home; folders end with `/`. */
export interface TargetPlan {
  home: string;
  homeExists: boolean;
  /** Paths the backup writes (every file, folder and link of its `fs/` tree not under a kept path). */
  written: string[];
  /** Paths of the current home that are not in the backup and not kept. */
  deleted: string[];
  /** Top-most paths of the current home that the restore leaves untouched. */
  kept: KeptPath[];
  /** True when `relative` (a content path) is a kept path or inside one. */
  isKept(relative: string): boolean;
}

/**
 * Compares the current home with the backup's tree. A partial backup's filter
 * lines keep the paths they match in the target (same matching as the backup
 * used); a local backup container inside the home is kept too, as the backup
 * never includes it.
 */
export function planTarget(home: string, entries: EntryTable, filterLines: string[], protectedPaths: string[]): TargetPlan {
  const filter = new PathFilter(filterLines, "the backup's filter");
  const homeExists = lstatSync(home, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const kept: KeptPath[] = [];
  const protectedRelative = new Set(
    protectedPaths
      .map((p) => path.relative(home, path.resolve(p)))
      .filter((p) => p && !p.startsWith("..") && !path.isAbsolute(p))
      .map((p) => p.split(path.sep).join("/")),
  );
  const old = homeExists
    ? walkHome(home, new PathFilter([], "none"), {
        exclude: (absolute) => {
          const relative = path.relative(home, absolute).split(path.sep).join("/");
          if (protectedRelative.has(relative)) {
            kept.push({ path: relative, reason: "backup container" });
            return true;
          }
          if (!filter.isEmpty && filter.excludes(relative)) {
            kept.push({ path: relative, reason: "filter" });
            return true;
          }
          return false;
        },
      })
    : undefined;
  const keptSet = new Set(kept.map((k) => k.path));
  const isKept = (relative: string) => {
    if (keptSet.size === 0) return false;
    for (let at = relative.indexOf("/"); at >= 0; at = relative.indexOf("/", at + 1)) {
      if (keptSet.has(relative.slice(0, at))) return true;
    }
    return keptSet.has(relative);
  };

  refuseKeptBehindNonFolders(home, entries, kept);

  const written: string[] = [];
  // Only needed to tell which old paths are not in the backup.
  const newPaths = old && old.entries.length + old.ignored.length + old.unreadable.length > 0 ? new Set<string>() : undefined;
  for (let index = 0; index < entries.count; index++) {
    const name = entries.names[index]!;
    if (!name.startsWith(CONTENT_PREFIX)) continue;
    const path = name.slice(CONTENT_PREFIX.length);
    const relative = path.endsWith("/") ? path.slice(0, -1) : path;
    if (!relative || isKept(relative)) continue;
    newPaths?.add(relative);
    written.push(path);
  }
  const deleted: string[] = [];
  if (old) {
    for (const entry of old.entries) {
      if (!newPaths?.has(entry.path)) deleted.push(entry.kind === "directory" ? `${entry.path}/` : entry.path);
    }
    for (const item of [...old.ignored, ...old.unreadable]) if (item.path !== "." && !newPaths?.has(item.path)) deleted.push(item.path);
  }
  return {
    home,
    homeExists,
    // Both come in walk order (each folder's names sorted), as the backup listed them.
    written,
    deleted,
    kept: kept.sort((a, b) => a.path.localeCompare(b.path)),
    isKept,
  };
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
    const name = entries.names[index]!;
    if (!name.startsWith(CONTENT_PREFIX)) continue;
    const kind = entries.kind(index);
    if (kind === "directory") continue;
    const relative = name.slice(CONTENT_PREFIX.length);
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
