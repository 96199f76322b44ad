import type { AppBackupOptions } from "../../../core/options.js";
import { lockTtlFromEnv, withAppLock } from "../../../core/schedule/lock.js";
import { pruneBackups, retentionPolicyOf, type PruneResult } from "../../../core/schedule/prune.js";
import { requireStoredConfiguration } from "../../../core/schedule/stored-config.js";
import { openStore } from "../../../core/store/open.js";
import { paragraph, table } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";
import { lockedElsewhere } from "./run-scheduled.js";

export interface PruneInputs {
  dryRun: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * `app-backup prune` as a step: applies the stored schedule's retention, under
 * the app's lock, the same steps as the CLI command.
 */
export async function pruneOperation(options: AppBackupOptions, inputs: PruneInputs, report: Reporter): Promise<OperationOutcome> {
  const appName = options.app.name;
  const store = await openStore(options.backup.storage);
  await store.check();
  const lockTtlMs = lockTtlFromEnv(inputs.env);
  const doc = await requireStoredConfiguration(store, appName);
  const schedule = doc.backup.schedule;
  if (!schedule) {
    report.output("status", "NoSchedule");
    report.output("pruned", "[]");
    const message = `The stored configuration of ${appName} has no backup.schedule, so no retention applies; nothing was deleted.`;
    report.info(message);
    await report.summary(`### app-backup: prune of ${appName}\n\n${paragraph(message)}\n`);
    return {};
  }
  const policy = retentionPolicyOf(schedule);
  const prune = () => pruneBackups(store, appName, policy, { dryRun: inputs.dryRun });
  let result: PruneResult;
  try {
    result = inputs.dryRun
      ? await prune()
      : await withAppLock(store, appName, prune, { ttlMs: lockTtlMs, purpose: `prune of ${appName}`, onWarning: (m) => report.warning(m) });
  } catch (error) {
    return lockedElsewhere(error, report);
  }

  const failed = new Set(result.failures.map((f) => f.name));
  report.output("status", result.failures.length > 0 ? "Failed" : inputs.dryRun ? "DryRun" : "Succeeded");
  report.output("pruned", JSON.stringify(result.deleted.map((d) => d.name)));
  const verb = inputs.dryRun ? "would delete" : "deleted";
  report.info(`Retention ${verb} ${result.deleted.length} of ${result.decisions.length} backup(s) of ${appName}.`);
  for (const decision of result.decisions) report.info(`  ${decision.name}: ${decision.action === "keep" ? "kept" : verb}: ${decision.reason}`);
  await report.summary(
    `### app-backup: retention ${verb} ${result.deleted.length} of ${result.decisions.length} backup(s) of ${appName}\n\n${table(
      ["Name", "Trigger", "Status", "Started (UTC)", "Action", "Why"],
      result.decisions.map((d) => [
        d.name,
        d.trigger,
        d.status,
        d.startedAt.toISOString().replace("T", " ").slice(0, 19),
        d.action === "keep" ? "keep" : failed.has(d.name) ? "delete FAILED" : verb,
        d.reason,
      ]),
    )}\n`,
  );
  if (result.failures.length > 0) return { failure: result.failures.map((f) => `Could not delete ${f.name}: ${f.error}`).join("\n") };
  return {};
}
