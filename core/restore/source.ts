import { stat } from "node:fs/promises";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { findBackupAt, findLatest } from "../catalog/find-at.js";
import { readCheckedManifestTable } from "../catalog/manifests.js";
import { AppBackupError } from "../errors.js";
import { blobNames, isValidBackupName } from "../format/backup-name.js";
import { readManifestTable } from "../format/manifest-reader.js";
import { restorableStatuses, type ManifestSummary } from "../format/manifest.js";
import type { AppBackupOptions } from "../options.js";
import { LocalStore } from "../store/local.js";
import { openStore } from "../store/open.js";
import { assertContainerAllows } from "../store/preflight.js";
import type { Store } from "../store/store.js";

/** Where a backup's zip and manifest are read from, with its manifest. */
export interface BackupSource {
  store: Store;
  /** The backup's name (as in the manifest). */
  name: string;
  /** Blob (or file) names of the zip and the manifest in `store`. */
  zipName: string;
  manifestName: string;
  /** The manifest without its entry list. */
  manifest: ManifestSummary;
  /** The manifest's entries (`entries.toEntries()` gives them as objects). */
  entries: EntryTable;
}

export interface BackupSelection {
  /** A backup name, or `latest` for the newest restorable backup of the app. */
  backup?: string;
  /** The newest restorable backup of the app started at or before this time (instead of `backup`). */
  at?: Date;
  /** A zip and manifest downloaded by hand: the `.zip`, the `.xml` or their common stem. */
  from?: string;
  /** Used instead of opening the configured container. */
  store?: Store;
}

/** Finds the backup and reads its manifest; nothing else is read yet. */
export async function openBackupSource(options: AppBackupOptions, selection: BackupSelection): Promise<BackupSource> {
  if (selection.from) return openDownloadedBackup(selection.from, selection.backup);
  assertOneChoice(selection);
  // Loaded on demand: the blob storage SDK is large, and a restore from a local folder never needs it.
  const store = selection.store ?? (await openStore(options.backup.storage));
  await assertContainerAllows(store, selection.backup === undefined || selection.backup === "latest" ? "find-backup" : "read-backup");
  const name = await chosenBackupName(store, options.app.name, selection);
  if (!isValidBackupName(name)) {
    throw new AppBackupError(
      "USAGE",
      `"${name}" is not a backup name: backup names have letters, digits and _ - . only.`,
      "Name a backup as `app-backup list` shows it, or `latest`.",
    );
  }
  const names = blobNames(name);
  // A manifest of another app is refused before its entry list or the zip is read.
  const { summary: manifest, table: entries } = await readCheckedManifestTable(store, name, (summary) => assertAppOf(summary, name, options.app.name, store));
  return { store, name, zipName: names.zip, manifestName: names.manifest, manifest, entries };
}

/**
 * The backup a selection names: the name itself, or for `latest` and `at` the
 * newest restorable backup (at or before `at`), found without listing the app
 * or reading any manifest but the chosen one's.
 */
export async function chosenBackupName(store: Store, appName: string, selection: Pick<BackupSelection, "backup" | "at">): Promise<string> {
  assertOneChoice(selection);
  if (selection.backup !== undefined && selection.backup !== "latest") return selection.backup;
  const chosen = selection.at ? await findBackupAt(store, appName, selection.at) : await findLatest(store, appName);
  if (!chosen) {
    const when = selection.at ? ` at or before ${selection.at.toISOString()}` : "";
    throw new AppBackupError(
      "BACKUP_NOT_FOUND",
      `No restorable backup of ${appName}${when} in ${store.location}.`,
      selection.at
        ? "Give a later time, or run `app-backup list --config FILE` to see the backups, their times and their status."
        : "Run `app-backup list --config FILE` to see the backups and their status.",
    );
  }
  return chosen.name;
}

/** A backup name (or `latest`) or a time, exactly one of them. */
function assertOneChoice(selection: Pick<BackupSelection, "backup" | "at">): void {
  if (selection.at && selection.backup) {
    throw new AppBackupError("USAGE", `Both a backup (${selection.backup}) and a time (--at) were given.`, "Name the backup, or give --at TIME to take the newest restorable backup at or before it; not both.");
  }
  if (!selection.backup && !selection.at) {
    throw new AppBackupError("USAGE", "No backup named.", "Name the backup to use (see `app-backup list`), `latest`, --at TIME, or pass --from with a downloaded zip.");
  }
}

function assertAppOf(manifest: ManifestSummary, name: string, appName: string, store: Store): void {
  if (manifest.appName === appName) return;
  throw new AppBackupError(
    "BACKUP_CORRUPT",
    `Backup ${name} in ${store.location} is a backup of app ${JSON.stringify(manifest.appName)}, not of ${appName}.`,
    `Pass that app's configuration with --config (and the app to restore into with --to), or name a backup of ${appName}.`,
  );
}

/** `--from PATH`: PATH is the `.zip`, the `.xml` or their stem; the other file is beside it. */
async function openDownloadedBackup(from: string, named: string | undefined): Promise<BackupSource> {
  const absolute = path.resolve(from);
  const stem = /\.(zip|xml)$/i.test(absolute) ? absolute.slice(0, -4) : absolute;
  const { zip: zipPath, manifest: manifestPath } = blobNames(stem);
  const missing: string[] = [];
  for (const file of [zipPath, manifestPath]) {
    if (!(await stat(file).catch(() => undefined))?.isFile()) missing.push(file);
  }
  if (missing.length) {
    throw new AppBackupError(
      "BACKUP_NOT_FOUND",
      `--from ${from}: ${missing.join(" and ")} ${missing.length > 1 ? "do" : "does"} not exist.`,
      "Download both the backup's .zip and its .xml manifest into the same folder, with the same name, and pass either one (or their common stem).",
    );
  }
  const stemName = path.basename(stem);
  if (stemName.startsWith(".")) {
    throw new AppBackupError("USAGE", `--from ${from}: a backup file name cannot start with a dot.`, "Rename the .zip and .xml files.");
  }
  const store = new LocalStore(path.dirname(stem));
  const { summary: manifest, table: entries } = await readManifestTable(store, stemName);
  if (named && named !== manifest.backupName && named !== stemName) {
    throw new AppBackupError(
      "USAGE",
      `The files given with --from hold backup ${manifest.backupName}, not ${named}.`,
      "Leave out the backup name when using --from, or pass the files of that backup.",
    );
  }
  const names = blobNames(stemName);
  return { store, name: manifest.backupName || stemName, zipName: names.zip, manifestName: names.manifest, manifest, entries };
}
