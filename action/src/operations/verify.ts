import { AppBackupError, ExitCode, verifyBackup, verifyChecked, verifyStatus, type AppBackupOptions } from "../../../core/index.js";
import { facts, list } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";

export interface VerifyOperationInputs {
  backupName?: string;
  readData: boolean;
}

/** `app-backup verify` as a step; the step fails unless the backup is intact and restorable. */
export async function verifyOperation(options: AppBackupOptions, inputs: VerifyOperationInputs, report: Reporter): Promise<OperationOutcome> {
  if (!inputs.backupName) {
    throw new AppBackupError("USAGE", "Input backup-name is required for verify.", "Set it to a backup's name (e.g. the backup-name output of a backup step) or to latest.");
  }
  const started = Date.now();
  const result = await verifyBackup(options, { backup: inputs.backupName, readData: inputs.readData });
  const status = verifyStatus(result);
  report.output("backup-name", result.backup);
  report.output("status", status);
  report.output("files", result.entries);
  report.output("duration-ms", Date.now() - started);
  const checked = verifyChecked(result, "set read-data: true");
  report.info(status === "Verified" ? `Backup ${result.backup} (${result.backupStatus}) is intact: ${checked}.` : `Backup ${result.backup}: ${status}.`);

  const parts = [
    `### ${status === "Verified" ? "✅" : "❌"} app-backup: verify ${result.backup} ${status}`,
    facts([
      ["Backup status", result.backupStatus],
      ["Checked", checked],
      ["Not restorable", result.notRestorable],
    ]),
  ];
  if (result.differences.length > 0) {
    parts.push(`#### Differences from the manifest (${result.differences.length})`, list(result.differences.map((d) => `${d.name}: ${d.difference}`)));
  }
  await report.summary(`${parts.join("\n\n")}\n`);

  if (status === "NotRestorable") return { failure: result.notRestorable };
  if (status === "Mismatch") {
    return {
      failure: `Backup ${result.backup} does not match its manifest: ${result.differences.length} difference(s) (${result.differences
        .slice(0, 3)
        .map((d) => `${d.name}: ${d.difference}`)
        .join("; ")}); it should not be restored.`,
      exitCode: ExitCode.mismatch,
    };
  }
  return {};
}
