import { AppBackupError } from "../errors.js";
import { blobNames } from "../format/backup-name.js";
import { ForeignObjectError, readManifestHead } from "../format/manifest-head.js";
import { parseManifest } from "../format/manifest-xml-parse.js";
import type { BackupManifest, ManifestSummary } from "../format/manifest.js";
import type { Store } from "../store/store.js";

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

/** The manifest's summary from a bounded read of its head. */
export async function readManifestSummary(store: Store, name: string): Promise<ManifestSummary> {
  const manifestName = blobNames(name).manifest;
  const info = await store.stat(manifestName);
  if (!info) throw backupNotFound(store, name);
  let summary: ManifestSummary;
  try {
    summary = await readManifestHead(store, manifestName, info.size);
  } catch (error) {
    if (error instanceof ForeignObjectError) {
      throw new AppBackupError("BACKUP_CORRUPT", `${store.urlOf(manifestName)} is ${error.message}.`, "Name a backup that `app-backup list` shows.");
    }
    throw error;
  }
  assertManifestOf(summary, name, manifestName);
  return summary;
}

export async function readManifest(store: Store, name: string): Promise<BackupManifest> {
  const manifestName = blobNames(name).manifest;
  if (!(await store.exists(manifestName))) throw backupNotFound(store, name);
  const manifest = parseManifest((await store.readAll(manifestName)).toString("utf8"), manifestName);
  assertManifestOf(manifest, name, manifestName);
  return manifest;
}

export function backupNotFound(store: Store, name: string): AppBackupError {
  return new AppBackupError(
    "BACKUP_NOT_FOUND",
    `No backup named ${name} in ${store.location}.`,
    "Run `app-backup list --config FILE` to see the backups in the container.",
  );
}
