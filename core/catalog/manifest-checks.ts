import { AppBackupError } from "../errors.js";
import { blobNames } from "../format/backup-name.js";
import type { ManifestSummary } from "../format/manifest.js";
import type { Store } from "../store/store.js";

// What is said of a manifest once read, apart from the reading: a listing of
// backups whose manifests carry their facts reads none, and loads no XML parser.

export const manifestMismatchHint = "A manifest describes only the backup it is named after; this one was altered or copied from another backup. Restore another backup.";

/**
 * A manifest speaks only for its own backup: the backup it names is the one it
 * is named after, and its zip is that backup's zip beside it, never another path.
 */
export function assertManifestOf(summary: ManifestSummary, name: string, source: string): void {
  const mismatch = manifestMismatch(summary, name, source);
  if (mismatch) throw new AppBackupError("BACKUP_CORRUPT", mismatch, manifestMismatchHint);
}

/** What a manifest claims is quoted as JSON: it is text from the container, control characters and all. */
export function manifestMismatch(summary: ManifestSummary, name: string, source: string): string | undefined {
  if (summary.backupName !== name) return `The manifest ${source} names backup ${JSON.stringify(summary.backupName)}, not ${name}.`;
  const zip = blobNames(name).zip;
  if (summary.zip && summary.zip.name !== zip) return `The manifest ${source} names the zip ${JSON.stringify(summary.zip.name)}, not ${zip}.`;
  return undefined;
}

export function backupNotFound(store: Store, name: string): AppBackupError {
  return new AppBackupError(
    "BACKUP_NOT_FOUND",
    `No backup named ${name} in ${store.location}.`,
    "Run `app-backup list --config FILE` to see the backups in the container.",
  );
}
