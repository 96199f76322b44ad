import path from "node:path";
import { deflateEngine, type DeflateEngine } from "../archive/deflate-engine.js";
import { formatSize } from "../config/size.js";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions } from "../options.js";
import type { HomeReader } from "../home/home.js";
import { LocalHomeReader } from "../home/local-home.js";
import { openHomeReader } from "../home/open-home.js";
import type { PathFilter } from "../plan/filter.js";
import type { SpooledWalk } from "../plan/planned-entries.js";
import type { WalkOptions } from "../plan/walk.js";
import type { RecordSpoolOptions } from "../spool/record-spool.js";
import type { BackupLog } from "./log.js";

export interface BackupPlan {
  /** The home being read; whoever holds the plan closes it (`home.close()`). */
  home: HomeReader;
  filter: PathFilter;
  /** The walk's entries are spooled; whoever holds the plan closes them (`walk.entries.close()`). */
  walk: SpooledWalk;
  /** What deflates the archive's files (APP_BACKUP_DEFLATE's choice). */
  deflate: DeflateEngine;
}

/**
 * Everything a backup can check before it writes a byte: the deflate it will
 * use, the home, the filter, the walk and the size limit. The walk's entries
 * go to a spool as they are found (in memory for a small home, a temp file
 * past `spool`'s threshold), so the size check needs the totals only, never
 * every path in memory.
 */
export async function planBackup(options: AppBackupOptions, log: BackupLog, spool: RecordSpoolOptions = {}): Promise<BackupPlan> {
  const deflate = deflateEngine();
  const home = await openHomeReader(options, { warning: (message) => log.warning(message) });
  try {
    const filter = await home.loadFilter(options.backup.filter);
    const walk = await home.walk(filter, walkOptionsOf(options), spool);
    try {
      checkPlan(options, log, filter, walk);
    } catch (error) {
      walk.entries.close();
      throw error;
    }
    return { home, filter, walk, deflate };
  } catch (error) {
    await home.close();
    throw error;
  }
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

/** The local home checked and its filter read: how a dry run walks it. Reads only. */
export async function prepareWalk(options: AppBackupOptions): Promise<{ home: string; filter: PathFilter; walkOptions: WalkOptions }> {
  const home = new LocalHomeReader(options.app.home, options.configPath);
  await home.check();
  const filter = await home.loadFilter(options.backup.filter);
  return { home: options.app.home, filter, walkOptions: walkOptionsOf(options) };
}

function walkOptionsOf(options: AppBackupOptions): WalkOptions {
  const localContainer = options.backup.storage.kind === "local" ? path.resolve(options.backup.storage.path) : undefined;
  return {
    // A local container inside the home would otherwise back up earlier backups.
    exclude: localContainer ? (absolute) => absolute === localContainer : undefined,
  };
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
