import type { SkippedEntry } from "../archive/types.js";
import type { ZipWriter } from "../archive/zip-writer.js";
import type { PathFilter } from "../plan/filter.js";
import type { PlannedEntries, SpooledWalk } from "../plan/planned-entries.js";
import type { WalkOptions } from "../plan/walk.js";
import type { RecordSpoolOptions } from "../spool/record-spool.js";

/**
 * Where an app's content lives, as a backup reads it: a local folder, a folder
 * on another machine over SFTP, or an App Service app through its Kudu site.
 * A backup is the same pipeline for each (plan → sources → archive writer →
 * store); only these steps differ with the medium.
 */
export interface HomeReader {
  /** Where the home is, for logs and messages; never holds a secret. */
  readonly description: string;
  /**
   * Whether reading the home keeps this thread busy (an SSH connection decrypted and parsed here):
   * the archive then starts one worker fewer than there are cores. On two cores a backup of a
   * 44k-file home over SFTP took 8.8–8.9 s with one worker against 8.5 s with two, and peaked 35–40 MiB lower.
   */
  readonly readsOnMainThread: boolean;
  /** The backup's filter: the inline lines when given, else the home's `_backup.filter` (see `filterFileLocations`), else none. */
  loadFilter(inline: string[] | undefined): Promise<PathFilter>;
  /**
   * Walks the home with the filter applied, in the local walk's order (a
   * folder's names sorted, a folder before what it holds), into a spool, so a
   * home of a million files is never a million objects. Problem paths go to
   * the walk's `unreadable` and `ignored` lists rather than failing it.
   */
  walk(filter: PathFilter, options: WalkOptions, spool: RecordSpoolOptions): Promise<SpooledWalk>;
  /**
   * Adds every walked entry's content to the zip, in walk order, under
   * `fs/{path}`, keeping at most `window` entries queued in the writer ahead
   * of what it has written. Returns the files that could not be read when
   * their turn came (vanished, refused, changed size): they are left out and
   * reported, as a local backup does. A lost connection rejects (HOME_UNREACHABLE).
   */
  addContent(entries: PlannedEntries, zip: ZipWriter, context: AddContentContext): Promise<SkippedEntry[]>;
  /** Ends any connection; safe to call twice. */
  close(): Promise<void>;
}

export interface AddContentContext {
  /** Entries the writer may hold queued ahead of what it has written. */
  window: number;
  signal?: AbortSignal;
}

/** A journal's phase, as in the local journal (see core/restore/journal.ts). */
export type RemoteRestorePhase = "staging" | "switching" | "cleaning";

/** What a restore of a remote home records beside it, so a later run can finish or undo it. */
export interface RemoteRestoreJournal {
  formatVersion: 1;
  id: string;
  backup: string;
  /** The home as described (never a secret). */
  home: string;
  host: string;
  pid: number;
  startedAt: string;
  phase: RemoteRestorePhase;
  /** Home-relative paths carried over from the old home into the new one. */
  kept: string[];
  databasesRestored: string[];
}

/** An interrupted restore that a run finished or undid before its own. */
export interface RemoteRecovery {
  backup: string;
  startedAt: string;
  action: "rolled back" | "completed";
  databasesRestored: string[];
}

/**
 * A remote home as a restore writes it. The restore reads, checks (every
 * entry against its SHA-256) and stages the backup's tree in a local folder
 * first, exactly as for a local home; this puts that tree in place:
 *
 * 1. `begin` writes the journal beside the remote home (the lock against a
 *    second restore); the home is untouched;
 * 2. `upload` copies the staged tree beside the home, with modes, times and
 *    links; the home is still untouched, and a failure here is undone;
 * 3. `switchTo` records the switch, moves the kept paths from the old home
 *    into the new tree, renames the old home aside and the new tree in, then
 *    deletes the old home and the journal. Each step is done only if it has
 *    not been, so `recover` finishes a switch that was cut at any point.
 *
 * A medium that cannot rename (Kudu) does what it can and says so in the README.
 */
export interface RemoteRestoreTarget {
  readonly description: string;
  /**
   * Walks the current home (no filter: every path) into a spool, in the walk's
   * order; `exists` is false when there is no home yet. The restore's plan
   * compares it with the backup (what is deleted, what a partial backup keeps).
   */
  listCurrent(spool: RecordSpoolOptions): Promise<{ exists: boolean; walk: SpooledWalk }>;
  /** The journal of a restore of this home that did not finish, if any (read only: a dry run reports it). */
  pendingJournal(): Promise<RemoteRestoreJournal | undefined>;
  /**
   * Finishes (phase switching or cleaning) or undoes (phase staging) an
   * interrupted restore; undefined when there was none. Throws RESTORE_LOCKED
   * when the journal's restore may still be running (same host, live pid).
   */
  recover(): Promise<RemoteRecovery | undefined>;
  /** Writes the journal in phase `staging`; throws RESTORE_LOCKED when another restore holds it. */
  begin(journal: RemoteRestoreJournal): Promise<void>;
  /** Records that databases were restored (journal rewritten). */
  record(journal: RemoteRestoreJournal): Promise<void>;
  /** Copies the local staged tree beside the home; `onProgress` gets bytes sent so far. */
  upload(localTree: string, options: { signal?: AbortSignal; onProgress?: (bytes: number) => void }): Promise<void>;
  /** Switches to the uploaded tree (see above). */
  switchTo(journal: RemoteRestoreJournal): Promise<void>;
  /** Deletes what `upload` wrote and the journal; the home was never touched. */
  rollBack(journal: RemoteRestoreJournal): Promise<void>;
  close(): Promise<void>;
}
