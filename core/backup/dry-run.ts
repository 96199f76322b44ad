import { accessSync, constants } from "node:fs";
import path from "node:path";
import { engineFor } from "../db/index.js";
import type { AppBackupOptions } from "../options.js";
import { openStore } from "../store/open.js";
import { reasonOf } from "../plan/unreadable.js";
import { openHomeReader, type HomeEvents } from "../home/open-home.js";
import type { PathFilter } from "../plan/filter.js";
import { tallyHome, type WalkTotals } from "../plan/walk.js";
import { prepareWalk } from "./plan.js";

/** What a backup of the app would hold, found by reading the home only. */
export interface BackupDryRun {
  app: string;
  home: string;
  /** Where the backup would go, without credentials. */
  storage: string;
  files: number;
  folders: number;
  symlinks: number;
  /** Uncompressed bytes of the files (and link targets) that would go in. */
  bytes: number;
  maxSizeBytes: number;
  /** The backup would stop at the size limit. */
  overLimit: boolean;
  filter: {
    /** Where the lines come from: the configuration, a `_backup.filter` file, or "no filter". */
    source: string;
    lines: Array<{ line: string; matched: number }>;
    /** Lines that matched nothing: usually a typo. */
    unmatched: string[];
  };
  /** Paths the walk could not read: the backup would leave them out (PartiallySucceeded). */
  unreadable: Array<{ path: string; reason: string }>;
  /** Sockets, FIFOs and devices, which no backup holds. */
  ignored: Array<{ path: string; reason: string }>;
  /** The databases that would be dumped; not connected to. */
  databases: Array<{ connectionStringName: string; databaseType: string; server: string }>;
}

/**
 * The plan of a backup without the backup: the home is walked with its filter,
 * and nothing is written, claimed or locked; the storage and the databases are
 * not contacted (their addresses are shown without credentials).
 */
export async function planBackupDryRun(options: AppBackupOptions, events: HomeEvents = {}): Promise<BackupDryRun> {
  const { filter, walk, tally, unreadableFiles } = options.app.remote ? await walkRemote(options, events) : await walkLocal(options);
  const { files, folders, symlinks, bytes } = tally;
  const unreadable = [...walk.unreadable, ...unreadableFiles];
  const databases = [];
  for (const ref of options.backup.databases) {
    const engine = await engineFor(ref.databaseType);
    const connectionString = options.app.connectionStrings[ref.connectionStringName]!.value;
    databases.push({ connectionStringName: ref.connectionStringName, databaseType: ref.databaseType, server: engine.describe(connectionString) });
  }
  return {
    app: options.app.name,
    home: options.app.home,
    // Opening a store only builds its client; nothing is sent.
    storage: (await openStore(options.backup.storage)).location,
    files,
    folders,
    symlinks,
    bytes,
    maxSizeBytes: options.backup.maxSizeBytes,
    overLimit: bytes > options.backup.maxSizeBytes,
    filter: { source: filter.source, lines: filter.lineMatches(), unmatched: filter.unusedLines() },
    unreadable,
    ignored: walk.ignored,
    databases,
  };
}

interface Tally {
  files: number;
  folders: number;
  symlinks: number;
  bytes: number;
}

interface DryWalk {
  filter: PathFilter;
  walk: WalkTotals;
  tally: Tally;
  unreadableFiles: Array<{ path: string; reason: string }>;
}

/** A remote home walked into a spool (nothing of it is read but its listing), then counted. */
async function walkRemote(options: AppBackupOptions, events: HomeEvents): Promise<DryWalk> {
  const home = await openHomeReader(options, events);
  try {
    const filter = await home.loadFilter(options.backup.filter);
    const walk = await home.walk(filter, {}, {});
    const tally: Tally = { files: 0, folders: 0, symlinks: 0, bytes: 0 };
    try {
      for (const entry of walk.entries) {
        if (entry.kind === "directory") tally.folders++;
        else if (entry.kind === "symlink") tally.symlinks++;
        else tally.files++;
        if (entry.kind !== "directory") tally.bytes += entry.size;
      }
    } finally {
      walk.entries.close();
    }
    return { filter, walk, tally, unreadableFiles: [] };
  } finally {
    await home.close();
  }
}

async function walkLocal(options: AppBackupOptions): Promise<DryWalk> {
  const { home, filter, walkOptions } = await prepareWalk(options);
  const tally: Tally = { files: 0, folders: 0, symlinks: 0, bytes: 0 };
  // Counted as the walk goes: no path is kept but those that cannot go in.
  const unreadableFiles: Array<{ path: string; reason: string }> = [];
  const walk = tallyHome(home, filter, (entry) => {
    if (entry.kind === "directory") tally.folders++;
    else if (entry.kind === "symlink") {
      tally.symlinks++;
      tally.bytes += entry.size;
    } else {
      // The walk only lists a file; the backup finds it unreadable when it opens it, and leaves it out.
      const reason = unreadableReason(path.join(options.app.home, entry.path));
      if (reason) unreadableFiles.push({ path: entry.path, reason });
      else {
        tally.files++;
        tally.bytes += entry.size;
      }
    }
  }, walkOptions);
  return { filter, walk, tally, unreadableFiles };
}

function unreadableReason(file: string): string | undefined {
  try {
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}
