import {
  assertBackupNameOfApp,
  backupDatabaseColumns,
  backupDatabaseRows,
  backupFacts,
  exitCodeForStatus,
  runBackup,
  type AppBackupOptions,
  type BackupResult,
} from "../../../core/index.js";
import { facts, list, table } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";
import { recordPartialUploads } from "../temporary-files.js";

export interface BackupOperationInputs {
  backupName?: string;
  failOnPartial: boolean;
  origin: Record<string, string>;
}

const statusIcon: Record<string, string> = { Succeeded: "✅", PartiallySucceeded: "⚠️", Failed: "❌" };

/** `app-backup backup` as a step: outputs, a job summary, warnings as annotations. */
export async function backupOperation(options: AppBackupOptions, inputs: BackupOperationInputs, report: Reporter): Promise<OperationOutcome> {
  if (inputs.backupName !== undefined) assertBackupNameOfApp(options.app.name, inputs.backupName, "Input backup-name");
  const now = new Date();
  // A cancelled job stops this process mid-upload; the post step removes what it staged under the name it claimed.
  const container = options.backup.storage.kind === "local" ? options.backup.storage.path : undefined;
  const result = await runBackup(options, {
    name: inputs.backupName,
    now,
    onNameClaimed: (name) => {
      if (container) recordPartialUploads(report.state, { container, backupName: name });
    },
    trigger: "OnDemand",
    origin: inputs.origin,
    onLog: (line) => {
      if (line.level === "info") report.info(line.message);
    },
  });

  setBackupOutputs(result, report);
  for (const warning of result.warnings) report.warning(warning);
  await report.summary(backupSummary(result));
  return backupOutcome(result, inputs.failOnPartial);
}

export function setBackupOutputs(result: BackupResult, report: Reporter): void {
  report.output("backup-name", result.name);
  report.output("status", result.status);
  report.output("zip-url", result.zip ?? "");
  report.output("manifest-url", result.manifest);
  report.output("log-url", result.log);
  report.output("size-bytes", result.sizeBytes);
  report.output("files", result.files);
  report.output("duration-ms", result.durationMs);
}

/** The step fails on a Failed backup, and on a PartiallySucceeded one when fail-on-partial is true. */
export function backupOutcome(result: BackupResult, failOnPartial: boolean): OperationOutcome {
  if (result.status === "Failed") {
    return { failure: `Backup ${result.name} failed: ${result.error ?? "see its log"} (log: ${result.log})`, exitCode: exitCodeForStatus(result.status, result.errorCode) };
  }
  if (result.status === "PartiallySucceeded" && failOnPartial) {
    return {
      failure: `Backup ${result.name} is PartiallySucceeded: ${result.skipped.length} file(s) could not be read and are not in it (${result.skipped
        .slice(0, 3)
        .map((s) => s.name)
        .join(", ")}${result.skipped.length > 3 ? ", ..." : ""}). Set fail-on-partial: false to accept partial backups.`,
      exitCode: exitCodeForStatus(result.status),
    };
  }
  return {};
}

export function backupSummary(result: BackupResult): string {
  const parts = [
    `### ${statusIcon[result.status] ?? ""} app-backup: backup ${result.name} ${result.status}`.replace("  ", " "),
    facts(backupFacts(result)),
  ];
  if (result.databases.length > 0) {
    parts.push("#### Databases", table(backupDatabaseColumns, backupDatabaseRows(result)));
  }
  if (result.skipped.length > 0) {
    parts.push(`#### Not in the backup (${result.skipped.length} unreadable)`, list(result.skipped.map((s) => `${s.name}: ${s.reason}`)));
  }
  if (result.warnings.length > 0) parts.push("#### Warnings", list(result.warnings));
  return `${parts.join("\n\n")}\n`;
}
