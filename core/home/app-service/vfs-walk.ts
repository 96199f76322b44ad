import { AppBackupError } from "../../errors.js";
import { byCodeUnits } from "../../code-unit-order.js";
import type { PathFilter } from "../../plan/filter.js";
import { walkSpool, type SpooledWalk } from "../../plan/planned-entries.js";
import { reasonOf } from "../../plan/unreadable.js";
import type { EntryFields } from "../../plan/walk.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { KuduClient, VfsEntry } from "./kudu-client.js";

/**
 * Kudu gives no Unix modes (its files live on a Windows share or behind one), so a
 * home read through it is recorded with the modes a fresh file and folder get:
 * `rw-r--r--` and `rwxr-xr-x`, with the file-type bits a local walk records.
 */
export const KUDU_FILE_MODE = 0o100644;
export const KUDU_FOLDER_MODE = 0o040755;

/**
 * Where app-backup keeps a restore's journal and staged zip in the app's home: Kudu
 * reaches nothing outside it. It is left out of every walk, so a backup never takes
 * it and a restore never deletes it.
 */
export const APP_BACKUP_FOLDER = "data/app-backup";

/** Sibling folders' listings asked for ahead of the walk: each costs a round trip. */
const LISTINGS_AHEAD = 4;

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface KuduWalkVisitor {
  entry: EntryFields;
  unreadable?(path: string, reason: string): void;
  /** A path the walk left out (the filter's, or app-backup's own folder), with its subtree. */
  excluded?(path: string): void;
}

/** True for the folder app-backup keeps its own files in, and what is under it. */
export function isAppBackupPath(path: string): boolean {
  return path === APP_BACKUP_FOLDER || path.startsWith(`${APP_BACKUP_FOLDER}/`);
}

/**
 * Walks the home through Kudu's VFS API as the local walk walks a folder: each
 * folder's names sorted (JS default sort), a folder reported before what it holds,
 * paths the filter excludes left out with their subtree. Kudu's shortcuts
 * (`SystemDrive`, `LocalSiteRoot`) lead outside the home and are never followed
 * (the client leaves them out of listings). A folder that vanished since its parent
 * was listed goes to `unreadable`; any other failure (refused, unreachable) stops the walk.
 */
export async function visitKuduHome(client: KuduClient, filter: PathFilter, visitor: KuduWalkVisitor): Promise<void> {
  const filtering = !filter.isEmpty;
  const listings = new Map<string, Promise<Settled<VfsEntry[]>>>();
  const list = (folder: string) => {
    let listing = listings.get(folder);
    if (!listing) {
      listing = settle(client.listFolder(folder));
      listings.set(folder, listing);
    }
    return listing;
  };

  const visit = async (entries: VfsEntry[]): Promise<void> => {
    const children: VfsEntry[] = [];
    for (const entry of entries) {
      if (isAppBackupPath(entry.path) || (filtering && filter.excludes(entry.path))) visitor.excluded?.(entry.path);
      else children.push(entry);
    }
    children.sort((a, b) => byCodeUnits(a.name, b.name));
    const subfolders = children.filter((child) => child.kind === "directory");
    let nextSubfolder = 0;
    for (const child of children) {
      if (child.kind === "file") {
        visitor.entry(child.path, "file", child.size, child.mtime.getTime(), KUDU_FILE_MODE, undefined);
        continue;
      }
      visitor.entry(child.path, "directory", 0, child.mtime.getTime(), KUDU_FOLDER_MODE, undefined);
      nextSubfolder++;
      // The next few siblings' listings travel while this folder is walked.
      for (const ahead of subfolders.slice(nextSubfolder, nextSubfolder + LISTINGS_AHEAD)) void list(ahead.path);
      const listing = await list(child.path);
      listings.delete(child.path);
      if (!listing.ok) {
        visitor.unreadable?.(child.path, vanishedReason(listing.error));
        continue;
      }
      await visit(listing.value);
    }
  };

  const root = await list("");
  listings.delete("");
  if (!root.ok) throw root.error;
  // Listings asked for ahead of a walk that fails are settled promises nobody waits for: they cannot go unhandled.
  await visit(root.value);
}

/** Walks the home (see {@link visitKuduHome}) into a spool, with the local walk's totals; the spool is closed if the walk fails. */
export async function spoolKuduHome(client: KuduClient, filter: PathFilter, spool: RecordSpoolOptions = {}, excluded?: (path: string) => void): Promise<SpooledWalk> {
  const spooled = walkSpool(spool);
  try {
    await visitKuduHome(client, filter, { entry: spooled.visitor.entry, unreadable: spooled.visitor.unreadable, ...(excluded ? { excluded } : {}) });
    return spooled.done();
  } catch (error) {
    spooled.discard();
    throw error;
  }
}

/** A folder that is gone (404) or became a file (307) since it was listed is a path that vanished; anything else is no path's fault. */
function vanishedReason(error: unknown): string {
  if (error instanceof AppBackupError && error.code === "HOME_MISSING") return reasonOf(Object.assign(new Error("no such folder"), { code: "ENOENT" }));
  throw error;
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
