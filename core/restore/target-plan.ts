import { lstatSync } from "node:fs";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { PathFilter } from "../plan/filter.js";
import { walkHome } from "../plan/walk.js";
import { CONTENT_PREFIX } from "./archive-check.js";

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
