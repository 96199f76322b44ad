import { isAppBackupError, lockTtlFromEnv, runScheduled, type AppBackupOptions, type ScheduledRunResult } from "../../../core/index.js";
import { facts, list, paragraph } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";
import { recordPartialUploads } from "../temporary-files.js";
import { backupOutcome, backupSummary, setBackupOutputs } from "./backup.js";

export interface RunScheduledInputs {
  dryRun: boolean;
  failOnPartial: boolean;
  origin: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

/**
 * `app-backup run-scheduled` as a step, for a workflow on an hourly `schedule:`:
 * backs up only when the stored schedule says one is due, then applies retention.
 */
export async function runScheduledOperation(runner: AppBackupOptions, inputs: RunScheduledInputs, report: Reporter): Promise<OperationOutcome> {
  const now = new Date();
  // A cancelled job stops this process mid-upload; the post step removes what it staged under the name it claimed.
  const container = runner.backup.storage.kind === "local" && !inputs.dryRun ? runner.backup.storage.path : undefined;
  let result: ScheduledRunResult;
  try {
    result = await runScheduled(runner, {
      now,
      dryRun: inputs.dryRun,
      env: inputs.env,
      lockTtlMs: lockTtlFromEnv(inputs.env),
      origin: inputs.origin,
      onResolved: (options) => report.learnSecrets(options),
      onNameClaimed: (name) => {
        if (container) recordPartialUploads(report.state, { container, backupName: name });
      },
      onWarning: (message) => report.warning(message),
      onLog: (line) => {
        if (line.level === "info") report.info(line.message);
      },
    });
  } catch (error) {
    return lockedElsewhere(error, report);
  }

  const pruned = result.pruned.map((d) => d.name);
  report.output("due", String(result.due));
  report.output("pruned", JSON.stringify(pruned));
  if (result.backup) setBackupOutputs(result.backup, report);
  else report.output("status", result.due ? "DryRun" : "NotDue");
  for (const difference of result.differences) {
    report.warning(`The step's configuration differs from the stored one on ${difference}; the stored one is used. Run operation configure to store the step's.`);
  }
  if (result.backup) for (const warning of result.backup.warnings) report.warning(warning);
  report.info(`${result.appName}: ${result.reason}`);

  const verb = result.dryRun ? "Would delete" : "Deleted";
  const parts = [
    `### app-backup: scheduled run of ${result.appName}${result.dryRun ? " (dry run)" : ""}`,
    facts([
      ["Due", result.due ? "yes" : "no"],
      ["Why", result.reason],
      ["Next due", result.nextDueAt?.toISOString()],
      ["Retention", result.enabled && result.schedule ? `${verb.toLowerCase()} ${pruned.length} backup(s)` : undefined],
    ]),
  ];
  if (pruned.length > 0) parts.push(`#### ${verb} by retention`, list(result.pruned.map((d) => `${d.name}: ${d.reason}`)));
  await report.summary(`${parts.join("\n\n")}\n${result.backup ? `\n${backupSummary(result.backup)}` : ""}`);

  const failures = result.pruneFailures.map((f) => `retention could not delete ${f.name}: ${f.error}`);
  const backupFailure = result.backup ? backupOutcome(result.backup, inputs.failOnPartial).failure : undefined;
  if (backupFailure || failures.length > 0) return { failure: [backupFailure, ...failures].filter(Boolean).join("\n") };
  return {};
}

/**
 * Another runner holding the app's lock is doing this very job: the step
 * reports it and succeeds, so overlapping scheduled runs do not fail the workflow.
 */
export async function lockedElsewhere(error: unknown, report: Reporter): Promise<OperationOutcome> {
  if (!isAppBackupError(error) || error.code !== "LOCKED") throw error;
  report.output("status", "Locked");
  report.warning(error.describe());
  await report.summary(`### app-backup: nothing done\n\n${paragraph(error.message)}\n`);
  return {};
}
