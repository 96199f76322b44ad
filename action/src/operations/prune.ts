import type { AppBackupOptions } from "../../../core/options.js";
import { lockTtlFromEnv } from "../../../core/schedule/lock.js";
import { pruneApp, type PruneResult } from "../../../core/schedule/prune.js";
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
  const lockTtlMs = lockTtlFromEnv(inputs.env);
  let result: PruneResult | undefined;
  try {
    ({ result } = await pruneApp(options, { dryRun: inputs.dryRun, lockTtlMs, onWarning: (m) => report.warning(m) }));
  } catch (error) {
    // Of pruneApp's steps only taking the lock throws LOCKED; lockedElsewhere rethrows every other error.
    return lockedElsewhere(error, report);
  }
  if (!result) {
    report.output("status", "NoSchedule");
    report.output("pruned", "[]");
    const message = `The stored configuration of ${appName} has no backup.schedule, so no retention applies; nothing was deleted.`;
    report.info(message);
    await report.summary(`### app-backup: prune of ${appName}\n\n${paragraph(message)}\n`);
    return {};
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
