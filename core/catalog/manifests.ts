import { AppBackupError } from "../errors.js";
import { blobNames } from "../format/backup-name.js";
import { ForeignObjectError, readManifestHead } from "../format/manifest-head.js";
import { parseManifest } from "../format/manifest-xml-parse.js";
import type { BackupManifest, ManifestSummary } from "../format/manifest.js";
import type { Store } from "../store/store.js";
import { assertManifestOf, backupNotFound } from "./manifest-checks.js";

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
