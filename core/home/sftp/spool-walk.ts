import type { PathFilter } from "../../plan/filter.js";
import { PlannedEntries, type SpooledWalk } from "../../plan/planned-entries.js";
import type { WalkOptions, WalkTotals } from "../../plan/walk.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { SftpSession } from "./connection.js";
import { visitSftpHome } from "./walk.js";

/**
 * Walks a remote home (see visitSftpHome) into a spool, adding up the totals as
 * the local walk does (tallyHomeFields): symlink targets count in the content
 * bytes, only regular files in `files`. The spool is closed if the walk fails.
 */
export async function spoolSftpHome(session: SftpSession, root: string, filter: PathFilter, options: WalkOptions, spool: RecordSpoolOptions): Promise<SpooledWalk> {
  const entries = new PlannedEntries(spool);
  const totals: WalkTotals = { contentBytes: 0, files: 0, unreadable: [], ignored: [] };
  try {
    await visitSftpHome(session, root, withExclusions(filter, root, options.exclude), {
      entry(entry) {
        entries.addFields(entry.path, entry.kind, entry.size, entry.mtime.getTime(), entry.mode, entry.linkTarget);
        totals.contentBytes += entry.size;
        if (entry.kind === "file") totals.files += 1;
      },
      unreadable: (path, reason) => totals.unreadable.push({ path, reason }),
      ignored: (path, reason) => totals.ignored.push({ path, reason }),
    });
  } catch (error) {
    entries.close();
    throw error;
  }
  return { entries, ...totals };
}

/**
 * The filter, also leaving out what `exclude` names by its absolute path on the
 * server: the filter is asked first, as the local walk does, so its lines count
 * the paths they match alike.
 */
function withExclusions(filter: PathFilter, root: string, exclude: WalkOptions["exclude"]): PathFilter {
  if (!exclude) return filter;
  const prefix = root.endsWith("/") ? root : `${root}/`;
  const combined = Object.create(filter) as PathFilter;
  combined.excludes = (relative: string) => filter.excludes(relative) || exclude(prefix + relative);
  return combined;
}
