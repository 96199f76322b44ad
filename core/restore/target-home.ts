import { lstatSync, statfsSync, statSync } from "node:fs";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { AppBackupError } from "../errors.js";
import { CONTENT_PREFIX } from "../format/zip-layout.js";
import type { AppBackupOptions } from "../options.js";
import { restoreHomeOf } from "./home.js";
import type { TargetPlan } from "./target-plan.js";

/**
 * The home as a real path: a home reached through a symlink is restored where
 * the link points, and the link stays. Its parent must exist or be creatable.
 */
export function resolveHome(target: AppBackupOptions): string {
  const declared = path.resolve(target.app.home);
  const info = lstatSync(declared, { throwIfNoEntry: false });
  if (info && !info.isDirectory() && !info.isSymbolicLink()) {
    throw new AppBackupError("HOME_MISSING", `The target home ${declared} is not a folder.`, `Set "home" in ${target.configPath ?? "the configuration"} to the app's folder.`);
  }
  if (!info) return declared;
  const home = restoreHomeOf(target);
  if (!statSync(home).isDirectory()) {
    throw new AppBackupError("HOME_MISSING", `The target home ${declared} is not a folder.`, `Set "home" in ${target.configPath ?? "the configuration"} to the app's folder.`);
  }
  if (path.dirname(home) === home) throw new AppBackupError("USAGE", "The target home cannot be the root folder.");
  if (statSync(home).dev !== statSync(path.dirname(home)).dev) {
    throw new AppBackupError(
      "USAGE",
      `The target home ${home} is a mount point; a restore builds the new home beside it and renames it in, which cannot cross file systems.`,
      "Point home at a folder inside the mounted file system (e.g. mount at /srv/app and use home: /srv/app/home).",
    );
  }
  return home;
}

/** Running as root over a home owned by someone else: restored paths get the home's owner, so the app can still use them. */
export function ownerFor(home: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const info = lstatSync(home, { throwIfNoEntry: false });
  if (!info || (info.uid === 0 && info.gid === 0)) return undefined;
  return { uid: info.uid, gid: info.gid };
}

/** Refuses early when the home's file system cannot hold the staged tree (and dumps) beside the current home. */
export function checkFreeSpace(home: string, entries: EntryTable, plan: TargetPlan, dumpEntries: string[]): void {
  // Dumps are few: found by row once, not looked up by name for every entry.
  let stats: ReturnType<typeof statfsSync>;
  try {
    stats = statfsSync(path.dirname(home));
  } catch {
    return;
  }
  const block = Math.max(512, stats.bsize);
  const dumpRows = new Set(dumpEntries.map((name) => entries.names.indexOf(name)));
  let needed = 0;
  for (let index = 0; index < entries.count; index++) {
    if (entries.kind(index) !== "file") continue;
    const isContent = entries.names.startsWith(index, CONTENT_PREFIX);
    if (isContent ? plan.keepsEntry(index) : !dumpRows.has(index)) continue;
    needed += Math.ceil(entries.sizes[index]! / block) * block;
  }
  const available = stats.bavail * stats.bsize;
  if (needed > available) {
    throw new AppBackupError(
      "RESTORE",
      `The restore needs ${formatBytes(needed)} beside the home in ${path.dirname(home)}, but only ${formatBytes(available)} are free; nothing was changed.`,
      "A restore builds the new home next to the old one before switching, so that file system needs room for both. Free space there and run the restore again.",
    );
  }
}

const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);
