import { AppBackupError, deleteAppBackup, lockTtlFromEnv, openStore, type AppBackupOptions } from "../../../core/index.js";
import { list } from "../markdown.js";
import type { OperationOutcome, Reporter } from "../reporter.js";

export interface DeleteOperationInputs {
  backupName?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * `app-backup delete BACKUP --yes` as a step: setting the operation is the
 * confirmation. The step fails when the backup does not exist, is not named
 * in the app's scheme, or another runner holds the app's lock.
 */
export async function deleteOperation(options: AppBackupOptions, inputs: DeleteOperationInputs, report: Reporter): Promise<OperationOutcome> {
  const appName = options.app.name;
  if (!inputs.backupName) {
    throw new AppBackupError("USAGE", "Input backup-name is required for delete.", `Set it to the name of the backup to delete, as the list operation shows it (${appName}_…).`);
  }
  const lockTtlMs = lockTtlFromEnv(inputs.env);
  const store = await openStore(options.backup.storage);
  const removed = await deleteAppBackup(store, appName, inputs.backupName, { lockTtlMs, onWarning: (m) => report.warning(m) });
  const urls = removed.map((o) => store.urlOf(o));
  report.output("backup-name", inputs.backupName);
  report.output("status", "Deleted");
  report.info(`Deleted backup ${inputs.backupName}: ${urls.join(", ")}.`);
  await report.summary(`### app-backup: deleted ${inputs.backupName}\n\n${list(urls)}\n`);
  return {};
}
