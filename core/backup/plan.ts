import { stat } from "node:fs/promises";
import path from "node:path";
import { formatSize } from "../config/size.js";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions } from "../options.js";
import { loadFilter, type PathFilter } from "../plan/filter.js";
import { spoolHome, type SpooledWalk } from "../plan/planned-entries.js";
import type { WalkOptions } from "../plan/walk.js";
import type { RecordSpoolOptions } from "../spool/record-spool.js";
import type { BackupLog } from "./log.js";

export interface BackupPlan {
  filter: PathFilter;
  /** The walk's entries are spooled; whoever holds the plan closes them (`walk.entries.close()`). */
  walk: SpooledWalk;
}

/**
 * Everything a backup can check before it writes a byte: the home, the filter,
 * the walk and the size limit. The walk's entries go to a spool as they are
 * found (in memory for a small home, a temp file past `spool`'s threshold), so
 * the size check needs the totals only, never every path in memory.
 */
export async function planBackup(options: AppBackupOptions, log: BackupLog, spool: RecordSpoolOptions = {}): Promise<BackupPlan> {
  const { home, filter, walkOptions } = await prepareWalk(options);
  const walk = spoolHome(home, filter, walkOptions, spool);
  try {
    checkPlan(options, log, filter, walk);
  } catch (error) {
    walk.entries.close();
    throw error;
  }
  return { filter, walk };
}

function checkPlan(options: AppBackupOptions, log: BackupLog, filter: PathFilter, walk: SpooledWalk): void {
  if (!filter.isEmpty) log.info(`Partial backup: ${filter.lines.length} filter line(s) from ${filter.source}.`);
  for (const line of filter.unusedLines()) log.warning(`Filter line "${line}" matches nothing in the home.`);
  for (const item of walk.ignored) log.warning(`Not backed up: ${item.path}: ${item.reason}.`);
  for (const item of walk.unreadable) log.warning(`Cannot read ${item.path}: ${item.reason}.`);

  if (walk.contentBytes > options.backup.maxSizeBytes) {
    throw sizeLimitError(options.backup.maxSizeBytes, walk.contentBytes);
  }
  log.info(`Planned ${walk.files} files, ${walk.entries.length - walk.files} folders and links, ${formatSize(walk.contentBytes)}.`);
}

/** The home checked and its filter read: how a backup (or its dry run) walks the home. Reads only. */
export async function prepareWalk(options: AppBackupOptions): Promise<{ home: string; filter: PathFilter; walkOptions: WalkOptions }> {
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
  const walkOptions: WalkOptions = {
    // A local container inside the home would otherwise back up earlier backups.
    exclude: localContainer ? (absolute) => absolute === localContainer : undefined,
  };
  return { home, filter, walkOptions };
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
