import { runBackup, type BackupResult, type BackupRunOptions } from "../backup/backup.js";
import { findBackupAt, isRestorable } from "../catalog/find-at.js";
import type { AppBackupOptions } from "../options.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import { decideDue, type DueDecision, type ScheduledBackupRef } from "./due.js";
import { defaultLockTtlMs, withAppLock } from "./lock.js";
import { pruneBackups, retentionPolicyOf, type PruneResult } from "./prune.js";
import {
  configurationDifferences,
  optionsFromStoredConfiguration,
  requireStoredConfiguration,
  storedConfigurationFromOptions,
  type StoredSchedule,
} from "./stored-config.js";

export interface ScheduledRunOptions {
  /** The time everything is evaluated at (due decision, retention ages, the backup's name); defaults to now. */
  now?: Date;
  /** Decide and plan only: no lock, no backup, no deletion. */
  dryRun?: boolean;
  /** Where `${env:VAR}` references of the stored configuration resolve; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  store?: Store;
  lockTtlMs?: number;
  /** The app's content as this runner sees it, when not at the stored home. */
  home?: string;
  origin?: Record<string, string>;
  onProgress?: BackupRunOptions["onProgress"];
  onLog?: BackupRunOptions["onLog"];
  onNameClaimed?: BackupRunOptions["onNameClaimed"];
  onWarning?: (message: string) => void;
  /** Told the options resolved from the stored configuration before anything runs (to learn their secrets). */
  onResolved?: (options: AppBackupOptions) => void;
  /**
   * Stops the run at its next step (see runBackup's `signal`): no backup is left
   * half-written, retention does not start, the lock is released, and the run
   * rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

export interface ScheduledRunResult {
  appName: string;
  now: Date;
  dryRun: boolean;
  enabled: boolean;
  schedule: StoredSchedule | null;
  due: boolean;
  reason: string;
  slot?: Date;
  nextDueAt?: Date;
  missedSlots: number;
  lastScheduled?: ScheduledBackupRef;
  /** The scheduled backup, when one ran. */
  backup?: BackupResult;
  /** Backups retention deleted (in a dry run: would delete). */
  pruned: PruneResult["deleted"];
  /** Zips and logs of unfinished backups that retention deleted (in a dry run: would delete). */
  prunedOrphans: PruneResult["orphans"];
  pruneFailures: PruneResult["failures"];
  /** Keys on which the runner's own configuration differs from the stored one (the stored one is used). */
  differences: string[];
  warnings: string[];
}

/**
 * One pass of a scheduled runner: reads the app's stored configuration, and
 * under the app's lock decides whether a scheduled backup is due, runs it, and
 * applies retention. The runner's options supply storage and secrets; the
 * stored configuration decides what is backed up and when.
 */
export async function runScheduled(runner: AppBackupOptions, run: ScheduledRunOptions = {}): Promise<ScheduledRunResult> {
  const now = run.now ?? new Date();
  const appName = runner.app.name;
  const { signal } = run;
  signal?.throwIfAborted();
  const store = run.store ?? (await openStore(runner.backup.storage));
  await store.check({ abortSignal: signal });
  const doc = await requireStoredConfiguration(store, appName);
  const differences = configurationDifferences(doc, storedConfigurationFromOptions(runner, { now, previous: doc }));
  const schedule = doc.backup.schedule;
  const base = {
    appName,
    now,
    dryRun: Boolean(run.dryRun),
    enabled: doc.backup.enabled,
    schedule,
    missedSlots: 0,
    pruned: [],
    prunedOrphans: [],
    pruneFailures: [],
    differences,
    warnings: [] as string[],
  };
  if (!doc.backup.enabled) {
    return { ...base, due: false, reason: `Backups of ${appName} are disabled (backup.enabled is false in the stored configuration); nothing runs.` };
  }
  if (!schedule) {
    return { ...base, due: false, reason: `The stored configuration of ${appName} has no backup.schedule; no scheduled backup runs.` };
  }

  const { options, warnings } = optionsFromStoredConfiguration(doc, runner, { env: run.env, home: run.home });
  for (const warning of warnings) run.onWarning?.(warning);
  run.onResolved?.(options);
  const policy = retentionPolicyOf(schedule);
  const timing = { frequencyInterval: schedule.frequencyInterval, frequencyUnit: schedule.frequencyUnit, startTime: new Date(schedule.startTime) };

  const decide = async (): Promise<{ decision: DueDecision; last?: ScheduledBackupRef }> => {
    signal?.throwIfAborted();
    // The newest stamp first, without listing the app's whole history.
    const newest = await findBackupAt(store, appName, now, { accept: (b) => b.trigger === "Scheduled" && isRestorable(b), signal });
    const last = newest ? { name: newest.name, startedAt: newest.startedAt } : undefined;
    return { decision: decideDue(timing, now, last), last };
  };
  const outcome = (decision: DueDecision, last: ScheduledBackupRef | undefined, prune: PruneResult, backup?: BackupResult): ScheduledRunResult => ({
    ...base,
    due: decision.due,
    reason: decision.reason,
    slot: decision.slot,
    nextDueAt: decision.nextDueAt,
    missedSlots: decision.missedSlots,
    lastScheduled: last,
    backup,
    pruned: prune.deleted,
    prunedOrphans: prune.orphans,
    pruneFailures: prune.failures,
    warnings: [...warnings, ...prune.warnings],
  });

  if (run.dryRun) {
    const { decision, last } = await decide();
    return outcome(decision, last, await pruneBackups(store, appName, policy, { now, dryRun: true, onWarning: run.onWarning, signal }));
  }
  return withAppLock(
    store,
    appName,
    async () => {
      // Decided under the lock: a runner that finished just before this one took it has already made the slot's backup.
      const { decision, last } = await decide();
      const backup = decision.due
        ? await runBackup(options, {
            trigger: "Scheduled",
            now,
            store,
            origin: { ...run.origin, scheduledSlot: decision.slot!.toISOString() },
            onProgress: run.onProgress,
            onLog: run.onLog,
            onNameClaimed: run.onNameClaimed,
            claimTtlMs: run.lockTtlMs,
            signal,
          })
        : undefined;
      return outcome(decision, last, await pruneBackups(store, appName, policy, { now, onWarning: run.onWarning, signal }), backup);
    },
    { ttlMs: run.lockTtlMs ?? defaultLockTtlMs, purpose: `run-scheduled of ${appName}`, onWarning: run.onWarning },
  );
}
