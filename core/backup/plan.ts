import { stat } from "node:fs/promises";
import path from "node:path";
import { formatSize } from "../config/size.js";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions } from "../options.js";
import { loadFilter, type PathFilter } from "../plan/filter.js";
import { walkHome, type WalkResult } from "../plan/walk.js";
import type { BackupLog } from "./log.js";

export interface BackupPlan {
  filter: PathFilter;
  walk: WalkResult;
}

/** Everything a backup can check before it writes a byte: the home, the filter, the walk and the size limit. */
export async function planBackup(options: AppBackupOptions, log: BackupLog): Promise<BackupPlan> {
  const { filter, walk } = await walkApp(options);
  if (!filter.isEmpty) log.info(`Partial backup: ${filter.lines.length} filter line(s) from ${filter.source}.`);
  for (const line of filter.unusedLines()) log.warning(`Filter line "${line}" matches nothing in the home.`);
  for (const item of walk.ignored) log.warning(`Not backed up: ${item.path}: ${item.reason}.`);
  for (const item of walk.unreadable) log.warning(`Cannot read ${item.path}: ${item.reason}.`);

  if (walk.contentBytes > options.backup.maxSizeBytes) {
    throw sizeLimitError(options.backup.maxSizeBytes, walk.contentBytes);
  }
  log.info(`Planned ${walk.files} files, ${walk.entries.length - walk.files} folders and links, ${formatSize(walk.contentBytes)}.`);
  return { filter, walk };
}

/** The home checked, its filter read and the home walked with it: what a backup would archive. Reads only. */
export async function walkApp(options: AppBackupOptions): Promise<BackupPlan> {
  const home = options.app.home;
  const info = await stat(home).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new AppBackupError(
      "HOME_MISSING",
      `The app's home ${home} ${info ? "is not a folder" : "does not exist"}.`,
      `Set "home" in ${options.configPath ?? "the configuration"} to the folder that holds the app's content (Azure's D:\\home).`,
    );
  }
  const filter = await loadFilter(home, options.backup.filter);
  const localContainer = options.backup.storage.kind === "local" ? path.resolve(options.backup.storage.path) : undefined;
  const walk = walkHome(home, filter, {
    // A local container inside the home would otherwise back up earlier backups.
    exclude: localContainer ? (absolute) => absolute === localContainer : undefined,
  });
  return { filter, walk };
}

/** Azure's wording, so users who know App Service recognise it. */
export function sizeLimitError(
  limitBytes: number,
  seenBytes: number,
  { what = "content", atLeast = false }: { what?: string; atLeast?: boolean } = {},
): AppBackupError {
  return new AppBackupError(
    "SIZE_LIMIT",
    `The website + database size exceeds the ${formatSize(limitBytes)} limit for backups. Your ${what} size is ${atLeast ? "at least " : ""}${formatSize(seenBytes)}.`,
    "Exclude folders from the backup with a _backup.filter file (a partial backup), or raise backup.maxSize.",
  );
}
