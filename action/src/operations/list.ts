import {
  formatCount,
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
 * GitHub keeps at most 1 MB of a step's outputs and of its job summary; the
 * newest backups are shown within a budget well under that, the rest counted.
 */
const outputBudgetBytes = 512 * 1024;

/**
 * `app-backup list` as a step: the newest `limit` backups of the app as JSON in
 * `backups` (their total in `backups-total`), and the newest restorable one in
 * the single-backup outputs, for a later restore.
 */
export async function listOperation(options: AppBackupOptions, { limit }: { limit: number }, report: Reporter): Promise<OperationOutcome> {
  const store = await openStore(options.backup.storage);
  const backups = await listBackups(store, { appName: options.app.name });
  const newest = backups.find((b) => restorableStatuses.has(b.status));
  const shown = newestWithinBudget(backups.slice(0, limit).map(listingJson));

  report.output("backups", JSON.stringify(shown));
  report.output("backups-total", backups.length);
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
  await report.summary(listSummary(options.app.name, store.location, backups, shown.length));
  return {};
}

/** The longest run of the newest entries whose JSON array fits the budget. */
export function newestWithinBudget<T>(entries: T[], budgetBytes = outputBudgetBytes): T[] {
  // "[", the entries with a comma between each two, "]".
  let bytes = 2;
  let fitting = 0;
  for (const entry of entries) {
    bytes += Buffer.byteLength(JSON.stringify(entry)) + (fitting > 0 ? 1 : 0);
    if (bytes > budgetBytes) break;
    fitting++;
  }
  return entries.slice(0, fitting);
}

function listSummary(appName: string, location: string, backups: BackupListing[], shown: number): string {
  const heading = `### app-backup: ${formatCount(backups.length)} backup(s) of ${appName}`;
  if (backups.length === 0) return `${heading}\n\nNo backups in ${paragraph(location)}.\n`;
  const rest = backups.length - shown;
  const more = rest > 0 ? `\n\n… and ${formatCount(rest)} more, older (\`app-backup list\` lists them all).` : "";
  return `${heading}\n\nIn ${paragraph(location)}, newest first.\n\n${table(listingColumns, backups.slice(0, shown).map(listingRow))}${more}\n`;
}
