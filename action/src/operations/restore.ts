import {
  AppBackupError,
  restoreDatabaseColumns,
  restoreDatabaseRows,
  restoreFacts,
  restoreHomeOf,
  runRestore,
  type AppBackupOptions,
  type RestoreResult,
} from "../../../core/index.js";
import { facts, list, table } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";
import { recordRestoreTarget } from "../temporary-files.js";

export interface RestoreOperationInputs {
  backupName?: string;
  /** The app to restore into; the app of `config` (or the inline inputs) when absent. */
  target?: AppBackupOptions;
  ignoreDatabases: boolean;
  restoreSettings: boolean;
  adjustConnectionStrings: boolean;
  dryRun: boolean;
  /** Aborted when the runner cancels the job: a restore that has not started switching discards what it staged. */
  signal?: AbortSignal;
}

const statusIcon: Record<string, string> = { Succeeded: "✅", DryRun: "📝", Failed: "❌" };

/** `app-backup restore` as a step; the step fails when the restore is Failed. */
export async function restoreOperation(options: AppBackupOptions, inputs: RestoreOperationInputs, report: Reporter): Promise<OperationOutcome> {
  if (!inputs.backupName) {
    throw new AppBackupError("USAGE", "Input backup-name is required for restore.", "Set it to the backup's name (see operation list) or to latest.");
  }
  const target = inputs.target ?? options;
  // A remote home's journal is beside it, settled by the next restore of that home (the post step has no connection).
  if (!inputs.dryRun && !target.app.remote) {
    // A cancelled job stops this process; the post step finishes or undoes the restore from its journal.
    recordRestoreTarget(report.state, restoreHomeOf(target));
  }
  const result = await runRestore(options, {
    backup: inputs.backupName,
    target,
    ignoreDatabases: inputs.ignoreDatabases,
    restoreSettings: inputs.restoreSettings,
    adjustConnectionStrings: inputs.adjustConnectionStrings,
    dryRun: inputs.dryRun,
    signal: inputs.signal,
    onLog: (line) => {
      if (line.level === "info") report.info(line.message);
    },
  });

  report.output("backup-name", result.backup);
  report.output("status", result.status);
  report.output("files", result.files);
  report.output("duration-ms", result.durationMs);
  for (const warning of result.warnings) report.warning(warning);
  await report.summary(restoreSummary(result));
  if (result.status === "Failed") {
    return { failure: `Restore of ${result.backup} into ${result.app} failed: ${result.error?.message ?? "see the log"}` };
  }
  return {};
}

export function restoreSummary(result: RestoreResult): string {
  const title = result.dryRun ? `dry run of restoring ${result.backup} into ${result.app}` : `restore of ${result.backup} into ${result.app} ${result.status}`;
  const parts = [
    `### ${statusIcon[result.status] ?? ""} app-backup: ${title}`,
    facts(restoreFacts(result)),
  ];
  if (result.databases.length > 0) {
    parts.push("#### Databases", table(restoreDatabaseColumns, restoreDatabaseRows(result)));
  }
  if (result.dryRun) {
    parts.push(`#### Would write (${result.counts.written})`, pathList(result.written, result.counts.written));
    if (result.counts.deleted) parts.push(`#### Would delete (${result.counts.deleted})`, pathList(result.deleted, result.counts.deleted));
  }
  if (result.warnings.length > 0) parts.push("#### Warnings", list(result.warnings));
  return `${parts.join("\n\n")}\n`;
}

/** The first paths of a result's list, then how many more there are in all (the result lists only the first of them). */
function pathList(paths: string[], count: number, limit = 50): string {
  const shown = paths.slice(0, limit);
  return count > shown.length ? `${list(shown, limit)}\n- … and ${count - shown.length} more` : list(shown, limit);
}
