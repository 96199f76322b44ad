import {
  listBackups,
  listingColumns,
  listingJson,
  listingRow,
  openStore,
  restorableStatuses,
  type AppBackupOptions,
  type BackupListing,
} from "../../../core/index.js";
import { paragraph, table } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";

/**
 * `app-backup list` as a step: every backup of the app as JSON in `backups`, and
 * the newest restorable one in the single-backup outputs, for a later restore.
 */
export async function listOperation(options: AppBackupOptions, report: Reporter): Promise<OperationOutcome> {
  const store = await openStore(options.backup.storage);
  const backups = await listBackups(store, { appName: options.app.name });
  const newest = backups.find((b) => restorableStatuses.has(b.status));

  report.output("backups", JSON.stringify(backups.map(listingJson)));
  report.output("backup-name", newest?.name ?? "");
  report.output("status", newest?.status ?? "");
  report.output("zip-url", newest?.zip ?? "");
  report.output("manifest-url", newest?.manifest ?? "");
  report.output("log-url", newest?.log ?? "");
  report.output("size-bytes", newest?.sizeBytes ?? "");
  report.output("files", newest?.files ?? "");
  report.info(
    backups.length === 0
      ? `No backups of ${options.app.name} in ${store.location}.`
      : `${backups.length} backup(s) of ${options.app.name} in ${store.location}; newest restorable: ${newest?.name ?? "none"}.`,
  );
  await report.summary(listSummary(options.app.name, store.location, backups));
  return {};
}

function listSummary(appName: string, location: string, backups: BackupListing[]): string {
  const heading = `### app-backup: ${backups.length} backup(s) of ${appName}`;
  if (backups.length === 0) return `${heading}\n\nNo backups in ${paragraph(location)}.\n`;
  return `${heading}\n\nIn ${paragraph(location)}, newest first.\n\n${table(listingColumns, backups.map(listingRow))}\n`;
}
