import { isStampedBackupNameOf } from "../format/backup-name.js";
import { deleteBackup, listBackups } from "../catalog/catalog.js";
import type { AppBackupOptions } from "../options.js";
import { openStore } from "../store/open.js";
import { listAll, type Store } from "../store/store.js";
import { withAppLock } from "./lock.js";
import { findOrphans, type Orphan } from "./orphans.js";
import { planRetention, type RetentionDecision, type RetentionPolicy } from "./retention.js";
import { requireStoredConfiguration } from "./stored-config.js";

export interface PruneResult {
  /** Every backup of the app, newest first, with what retention does to it. */
  decisions: RetentionDecision[];
  /** Backups deleted (or, in a dry run, that would be). */
  deleted: RetentionDecision[];
  /** Zips and logs of the app's unfinished backups deleted (or, in a dry run, that would be). */
  orphans: Orphan[];
  /** Deletions that failed, with the reason; those backups are still there. */
  failures: Array<{ name: string; error: string }>;
  /** Objects retention left alone because they are not the app's to delete. */
  warnings: string[];
}

export interface PruneOptions {
  now?: Date;
  dryRun?: boolean;
  onWarning?: (message: string) => void;
  /**
   * Stops the prune between deletions, never inside one: a backup's objects go
   * all together or not at all. The prune then rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Applies the retention policy to an app's backups: zip, manifest and log go
 * together. Only the app's own stamped names are ever deleted, and of each only
 * `{name}.zip`, `{name}.xml` and `{name}.log`. Zips and logs of unfinished
 * backups of the app (no manifest, older than a day) go too. Callers hold the
 * app's lock, so no backup of the app is running beside this.
 */
export async function pruneBackups(store: Store, appName: string, policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  // Ages of unfinished objects are judged at the real clock too, so a --now in the future never makes a running backup look abandoned.
  const judgedAt = new Date(Math.min(now.getTime(), Date.now()));
  const { signal } = options;
  const orphans = findOrphans(await listAll(store, undefined, { abortSignal: signal }), appName, judgedAt);
  const orphanNames = new Set(orphans.map((o) => o.name));
  // An orphan's zip is listed as an interrupted backup; it is dealt with as an orphan, not by retention.
  const backups = (await listBackups(store, { appName, onWarning: warn })).filter((b) => !orphanNames.has(b.name));
  const decisions = planRetention(backups, policy, now).map((decision): RetentionDecision => {
    if (decision.action !== "delete" || isStampedBackupNameOf(appName, decision.name)) return decision;
    warn(`${decision.name} claims to be a scheduled backup of ${appName}, but its name is not one of ${appName}'s ({app}_{yyyyMMddHHmmss}); retention leaves it alone.`);
    return {
      ...decision,
      action: "keep",
      rule: "not-own-name",
      reason: `Would be deleted (${decision.rule}), but retention deletes only names of ${appName}'s own scheduled naming, and this is not one.`,
    };
  });
  const toDelete = decisions.filter((d) => d.action === "delete");
  if (options.dryRun) return { decisions, deleted: toDelete, orphans, failures: [], warnings };
  const deleted: RetentionDecision[] = [];
  const deletedOrphans: Orphan[] = [];
  const failures: PruneResult["failures"] = [];
  for (const decision of toDelete) {
    signal?.throwIfAborted();
    try {
      await deleteBackup(store, decision.name);
      deleted.push(decision);
    } catch (error) {
      failures.push({ name: decision.name, error: (error as Error).message });
    }
  }
  for (const orphan of orphans) {
    signal?.throwIfAborted();
    try {
      for (const object of orphan.objects) await store.delete(object);
      deletedOrphans.push(orphan);
    } catch (error) {
      failures.push({ name: orphan.name, error: (error as Error).message });
    }
  }
  return { decisions, deleted, orphans: deletedOrphans, failures, warnings };
}

export function retentionPolicyOf(schedule: RetentionPolicy): RetentionPolicy {
  return {
    retentionPeriodInDays: schedule.retentionPeriodInDays,
    keepAtLeastOneBackup: schedule.keepAtLeastOneBackup,
    tiered: schedule.tiered,
  };
}

export interface PruneAppRun {
  /** The time backup ages are judged at; defaults to now. */
  now?: Date;
  /** Decide only: no lock, no deletion. */
  dryRun?: boolean;
  lockTtlMs: number;
  onWarning?: (message: string) => void;
  /** See PruneOptions.signal; the lock is released all the same. */
  signal?: AbortSignal;
}

export interface PruneAppResult {
  /** Where the backups are, for messages. */
  location: string;
  /** Null when the stored configuration has no schedule: no retention applies and nothing was looked at. */
  policy: RetentionPolicy | null;
  result?: PruneResult;
}

/**
 * `prune` for every front end (CLI command, GitHub Action operation), so they
 * cannot drift apart: the stored schedule's retention, applied under the app's
 * lock so it never deletes beside a running scheduled backup. A LOCKED error
 * means another runner holds the lock and nothing was done.
 */
export async function pruneApp(options: AppBackupOptions, run: PruneAppRun): Promise<PruneAppResult> {
  const appName = options.app.name;
  const { signal } = run;
  signal?.throwIfAborted();
  const store = await openStore(options.backup.storage);
  await store.check({ abortSignal: signal });
  const doc = await requireStoredConfiguration(store, appName);
  const schedule = doc.backup.schedule;
  if (!schedule) return { location: store.location, policy: null };
  const policy = retentionPolicyOf(schedule);
  const prune = () => pruneBackups(store, appName, policy, { now: run.now, dryRun: run.dryRun, onWarning: run.onWarning, signal });
  const result = run.dryRun
    ? await prune()
    : await withAppLock(store, appName, prune, { ttlMs: run.lockTtlMs, purpose: `prune of ${appName}`, onWarning: run.onWarning });
  return { location: store.location, policy, result };
}
