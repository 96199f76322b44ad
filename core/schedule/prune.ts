import { deleteBackup, listBackups } from "../catalog/catalog.js";
import type { AppBackupOptions } from "../options.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import { withAppLock } from "./lock.js";
import { planRetention, type RetentionDecision, type RetentionPolicy } from "./retention.js";
import { requireStoredConfiguration } from "./stored-config.js";

export interface PruneResult {
  /** Every backup of the app, newest first, with what retention does to it. */
  decisions: RetentionDecision[];
  /** Backups deleted (or, in a dry run, that would be). */
  deleted: RetentionDecision[];
  /** Deletions that failed, with the reason; those backups are still there. */
  failures: Array<{ name: string; error: string }>;
}

/** Applies the retention policy to an app's backups: zip, manifest and log go together. */
export async function pruneBackups(
  store: Store,
  appName: string,
  policy: RetentionPolicy,
  options: { now?: Date; dryRun?: boolean } = {},
): Promise<PruneResult> {
  const backups = await listBackups(store, { appName });
  const decisions = planRetention(backups, policy, options.now ?? new Date());
  const toDelete = decisions.filter((d) => d.action === "delete");
  if (options.dryRun) return { decisions, deleted: toDelete, failures: [] };
  const deleted: RetentionDecision[] = [];
  const failures: PruneResult["failures"] = [];
  for (const decision of toDelete) {
    try {
      await deleteBackup(store, decision.name);
      deleted.push(decision);
    } catch (error) {
      failures.push({ name: decision.name, error: (error as Error).message });
    }
  }
  return { decisions, deleted, failures };
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
  const store = await openStore(options.backup.storage);
  await store.check();
  const doc = await requireStoredConfiguration(store, appName);
  const schedule = doc.backup.schedule;
  if (!schedule) return { location: store.location, policy: null };
  const policy = retentionPolicyOf(schedule);
  const prune = () => pruneBackups(store, appName, policy, { now: run.now, dryRun: run.dryRun });
  const result = run.dryRun
    ? await prune()
    : await withAppLock(store, appName, prune, { ttlMs: run.lockTtlMs, purpose: `prune of ${appName}`, onWarning: run.onWarning });
  return { location: store.location, policy, result };
}
