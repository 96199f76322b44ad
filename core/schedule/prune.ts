import { isStampedBackupNameOf } from "../format/backup-name.js";
import { appPrefixOf } from "../catalog/app-names.js";
import { collectBackupObjects } from "../catalog/backup-objects.js";
import { deleteBackup } from "../catalog/delete.js";
import { listingsOf } from "../catalog/listing.js";
import type { AppBackupOptions } from "../options.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import { withAppLock } from "./lock.js";
import { deleteOrphan, findOrphans, listClaims, listLocalLeftovers, type Orphan } from "./orphans.js";
import { planRetention, type RetentionDecision, type RetentionPolicy } from "./retention.js";
import { requireStoredConfiguration } from "./stored-config.js";

export interface PruneResult {
  /** Every backup of the app, newest first, with what retention does to it. */
  decisions: RetentionDecision[];
  /** Backups deleted (or, in a dry run, that would be). */
  deleted: RetentionDecision[];
  /** What interrupted or failed runs of the app left, each with its rule, deleted (or, in a dry run, that would be). */
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
 * `{name}.zip`, `{name}.xml` and `{name}.log`. What interrupted runs of the app
 * left (see orphans.ts), older than a day, goes too. The app's prefix is listed
 * once, with metadata, for retention and orphans alike. Callers hold the app's
 * lock, so no scheduled backup of the app is running beside this.
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
  // The claims lie outside the app's prefix: they are listed while the app's pages come in.
  const [groups, claims, localFiles] = await Promise.all([
    collectBackupObjects(store.list(appPrefixOf(appName), { includeMetadata: true, abortSignal: signal })),
    listClaims(store, appName, signal),
    listLocalLeftovers(store, appName),
  ]);
  const found = { groups, claims, localFiles };
  const orphans = findOrphans(found, appName, judgedAt);
  // An orphan's zip is listed as an interrupted backup; it is dealt with as an orphan, not by retention.
  for (const orphan of orphans) if (orphan.rule === "zip-without-manifest" || orphan.rule === "log-without-zip") groups.delete(orphan.name);
  const backups = await listingsOf(store, groups, { appName, onWarning: warn, signal, recordFacts: !options.dryRun });
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
      await deleteOrphan(store, orphan);
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
