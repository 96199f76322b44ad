import { deleteBackup, listBackups } from "../catalog/catalog.js";
import type { Store } from "../store/store.js";
import { planRetention, type RetentionDecision, type RetentionPolicy } from "./retention.js";

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
