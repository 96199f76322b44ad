import { decisionRow, lockTtlFromEnv, pruneApp, type AppBackupOptions, type PruneResult } from "../../../core/index.js";
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
  for (const orphan of result.orphans) report.info(`  ${orphan.objects.join(", ")}: ${verb} (rule ${orphan.rule}): ${orphan.reason}`);
  await report.summary(
    `### app-backup: retention ${verb} ${result.deleted.length} of ${result.decisions.length} backup(s) of ${appName}\n\n${table(
      ["Name", "Trigger", "Status", "Started (UTC)", "Action", "Why"],
      result.decisions
        .map((d) => decisionRow(d, { dryRun: inputs.dryRun, failed }))
        .map((row) => [row.name, row.trigger, row.status, row.started, row.action, row.reason]),
    )}\n`,
  );
  if (result.failures.length > 0) return { failure: result.failures.map((f) => `Could not delete ${f.name}: ${f.error}`).join("\n") };
  return {};
}
