import { stat } from "node:fs/promises";
import type { SkippedEntry } from "../archive/types.js";
import type { ZipWriter } from "../archive/zip-writer.js";
import { AppBackupError } from "../errors.js";
import { contentEntryName } from "../format/zip-layout.js";
import { loadFilter, type PathFilter } from "../plan/filter.js";
import { spoolHome, type PlannedEntries, type SpooledWalk } from "../plan/planned-entries.js";
import type { WalkOptions } from "../plan/walk.js";
import type { RecordSpoolOptions } from "../spool/record-spool.js";
import type { AddContentContext, HomeReader } from "./home.js";

/**
 * A home that is a folder on this machine. Files are not read here: the zip
 * writer's workers open them by path when their turn comes, so the main
 * thread only queues names.
 */
export class LocalHomeReader implements HomeReader {
  readonly description: string;
  /** Files are read by the archive's workers. */
  readonly readsOnMainThread = false;

  /** `configPath` names the file to fix in the error for a missing home. */
  constructor(
    private readonly home: string,
    private readonly configPath?: string,
  ) {
    this.description = home;
  }

  /** Throws HOME_MISSING unless the home is a folder. */
  async check(): Promise<void> {
    const info = await stat(this.home).catch(() => undefined);
    if (info?.isDirectory()) return;
    throw new AppBackupError(
      "HOME_MISSING",
      `The app's home ${this.home} ${info ? "is not a folder" : "does not exist"}.`,
      `Set "home" in ${this.configPath ?? "the configuration"} to the folder that holds the app's content (Azure's D:\\home).`,
    );
  }

  loadFilter(inline: string[] | undefined): Promise<PathFilter> {
    return loadFilter(this.home, inline);
  }

  async walk(filter: PathFilter, options: WalkOptions, spool: RecordSpoolOptions): Promise<SpooledWalk> {
    return spoolHome(this.home, filter, options, spool);
  }

  async addContent(entries: PlannedEntries, zip: ZipWriter, { window, signal }: AddContentContext): Promise<SkippedEntry[]> {
    // One prefix for every path: a file's path is then one concatenation, not two.
    const homePrefix = `${this.home}/`;
    // Read back from the plan's spool in walk order: only the writer's window of entries is in memory.
    for (const entry of entries) {
      if (zip.queued >= window) await zip.whenQueuedAtMost(window / 2);
      signal?.throwIfAborted();
      const name = contentEntryName(entry.path);
      if (entry.kind === "directory") zip.addDirectory(`${name}/`, { mtime: entry.mtime, mode: entry.mode });
      else if (entry.kind === "symlink") zip.addSymlink(name, entry.linkTarget!, { mtime: entry.mtime, mode: entry.mode });
      else zip.addFile(name, homePrefix + entry.path, { size: entry.size, mtime: entry.mtime, mode: entry.mode });
    }
    // Files that cannot be read when their turn comes are reported by the writer itself.
    return [];
  }

  async close(): Promise<void> {}
}
