import { describeConfiguration, storeConfiguration, toolVersion, type AppBackupOptions } from "../../../core/index.js";
import { paragraph } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";

/**
 * `app-backup configure` as a step: stores the app's backup configuration
 * (schedule, retention, what to back up) in its container, where
 * `run-scheduled` reads it.
 */
export async function configureOperation(options: AppBackupOptions, report: Reporter): Promise<OperationOutcome> {
  const result = await storeConfiguration(options, { storedBy: `app-backup ${toolVersion} GitHub Action` });
  const status = result.created ? "Created" : result.changed.length > 0 ? "Updated" : "Unchanged";
  report.output("status", status);
  const what = result.created ? "stored" : result.changed.length > 0 ? `updated (${result.changed.join(", ")} changed)` : "stored again (unchanged)";
  const lines = describeConfiguration(result.document);
  report.info([`Backup configuration of ${options.app.name} ${what}: ${result.url}`, ...lines].join("\n"));
  await report.summary(`### ✅ app-backup: configuration of ${options.app.name} ${what}\n\n${paragraph(result.url)}\n\n\`\`\`\n${lines.map((l) => l.trim()).join("\n")}\n\`\`\`\n`);
  return {};
}
