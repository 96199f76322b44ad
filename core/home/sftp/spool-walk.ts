import type { PathFilter } from "../../plan/filter.js";
import { walkSpool, type SpooledWalk } from "../../plan/planned-entries.js";
import type { WalkOptions } from "../../plan/walk.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { SftpSession } from "./connection.js";
import { visitSftpHome } from "./walk.js";

/**
 * Walks a remote home (see visitSftpHome) into a spool, adding up the totals as
 * the local walk does (tallyHomeFields): symlink targets count in the content
 * bytes, only regular files in `files`. The spool is closed if the walk fails.
 */
export async function spoolSftpHome(session: SftpSession, root: string, filter: PathFilter, options: WalkOptions, spool: RecordSpoolOptions): Promise<SpooledWalk> {
  const spooled = walkSpool(spool);
  const { visitor } = spooled;
  try {
    await visitSftpHome(session, root, withExclusions(filter, root, options.exclude), {
      entry: (entry) => visitor.entry(entry.path, entry.kind, entry.size, entry.mtime.getTime(), entry.mode, entry.linkTarget),
      unreadable: visitor.unreadable,
      ignored: visitor.ignored,
    });
  } catch (error) {
    spooled.discard();
    throw error;
  }
  return spooled.done();
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
