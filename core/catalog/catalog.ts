import { AppBackupError } from "../errors.js";
import { blobNames, isValidBackupName } from "../format/backup-name.js";
import { ForeignObjectError, readManifestHead } from "../format/manifest-head.js";
import { parseManifest } from "../format/manifest-xml.js";
import type { BackupManifest, BackupStatus, BackupTrigger, ManifestSummary } from "../format/manifest.js";
import { listAll, type Store, type StoredObject } from "../store/store.js";

/** One backup in a container, as `list` shows it. */
export interface BackupListing {
  name: string;
  appName: string;
  status: BackupStatus;
  trigger: BackupTrigger;
  startedAt: Date;
  finishedAt: Date;
  sizeBytes: number;
  files: number;
  databases: number;
  zip?: string;
  manifest?: string;
  log?: string;
  error?: string;
}

export interface ListBackupsOptions {
  /** Only the backups of this app. */
  appName?: string;
  /** Told about every object that was skipped because it is not a backup of ours or lies about itself. */
  onWarning?: (message: string) => void;
}

/** A listing as `list --json` prints it (and the Action's `backups` output). */
export function listingJson(b: BackupListing) {
  return {
    name: b.name,
    app: b.appName,
    status: b.status,
    trigger: b.trigger,
    startedAt: b.startedAt.toISOString(),
    finishedAt: b.finishedAt.toISOString(),
    sizeBytes: b.sizeBytes,
    files: b.files,
    databases: b.databases,
    zip: b.zip ?? null,
    manifest: b.manifest ?? null,
    ...(b.error ? { error: b.error } : {}),
  };
}

/** The objects of one backup name: its zip, manifest and log, as far as they exist. */
export type BackupObjects = Partial<Record<"zip" | "xml" | "log", StoredObject>>;

/**
 * The container's objects grouped by backup name. Only names a backup may have
 * count: anything else in the container is none of ours and is never read.
 */
export function groupBackupObjects(objects: StoredObject[]): Map<string, BackupObjects> {
  const byName = new Map<string, BackupObjects>();
  for (const object of objects) {
    const match = object.name.match(/^(.+)\.(zip|xml|log)$/);
    if (!match || !isValidBackupName(match[1]!)) continue;
    const group = byName.get(match[1]!) ?? {};
    group[match[2] as keyof BackupObjects] = object;
    byName.set(match[1]!, group);
  }
  return byName;
}

/**
 * The backups in a container, newest first. A zip without a manifest was
 * interrupted and is listed as Failed. Manifests are read only by their head,
 * so a big object of someone else's costs one bounded read, not its size.
 */
export async function listBackups(store: Store, options: ListBackupsOptions = {}): Promise<BackupListing[]> {
  const byName = groupBackupObjects(await listAll(store));
  const listings: BackupListing[] = [];
  const names = [...byName.keys()];
  // A few manifest reads at once: fast on blob storage without flooding it.
  for (let i = 0; i < names.length; i += 8) {
    const batch = await Promise.all(names.slice(i, i + 8).map((name) => listingOf(store, name, byName.get(name)!, options.onWarning)));
    for (const listing of batch) if (listing) listings.push(listing);
  }
  return listings
    .filter((l) => !options.appName || l.appName === options.appName)
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.name.localeCompare(a.name));
}

async function listingOf(store: Store, name: string, objects: BackupObjects, onWarning?: (message: string) => void): Promise<BackupListing | undefined> {
  const names = blobNames(name);
  const urls = {
    zip: objects.zip ? store.urlOf(names.zip) : undefined,
    manifest: objects.xml ? store.urlOf(names.manifest) : undefined,
    log: objects.log ? store.urlOf(names.log) : undefined,
  };
  /** A backup that cannot be restored and has no readable manifest to describe it. */
  const unrestorable = (stamp: Date | undefined, sizeBytes: number, error: string): BackupListing => ({
    name,
    appName: name.replace(/_\d{14}(?:-\d+)?$/, ""),
    status: "Failed",
    trigger: "OnDemand",
    startedAt: stamp ?? new Date(0),
    finishedAt: stamp ?? new Date(0),
    sizeBytes,
    files: 0,
    databases: 0,
    ...urls,
    error,
  });
  if (!objects.xml) {
    if (!objects.zip) return undefined;
    return unrestorable(objects.zip.lastModified, objects.zip.size, "No manifest: the backup was interrupted before it finished. It cannot be restored.");
  }
  let summary: ManifestSummary;
  try {
    summary = await readManifestHead(store, names.manifest, objects.xml.size);
  } catch (error) {
    if (error instanceof ForeignObjectError) {
      onWarning?.(`Skipped ${store.urlOf(names.manifest)}: ${error.message}.`);
      return undefined;
    }
    return unrestorable(objects.xml.lastModified, 0, (error as Error).message);
  }
  const mismatch = manifestMismatch(summary, name, names.manifest);
  if (mismatch) {
    onWarning?.(`Skipped ${store.urlOf(names.manifest)}: ${mismatch} ${manifestMismatchHint}`);
    return undefined;
  }
  return {
    name,
    appName: summary.appName,
    status: summary.status,
    trigger: summary.trigger,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    sizeBytes: summary.zip?.sizeBytes ?? 0,
    files: summary.files,
    databases: summary.databases.length,
    ...urls,
    error: summary.error,
  };
}

const manifestMismatchHint = "A manifest describes only the backup it is named after; this one was altered or copied from another backup. Restore another backup.";

/**
 * A manifest speaks only for its own backup: the backup it names is the one it
 * is named after, and its zip is that backup's zip beside it, never another path.
 */
export function assertManifestOf(summary: ManifestSummary, name: string, source: string): void {
  const mismatch = manifestMismatch(summary, name, source);
  if (mismatch) throw new AppBackupError("BACKUP_CORRUPT", mismatch, manifestMismatchHint);
}

/** What a manifest claims is quoted as JSON: it is text from the container, control characters and all. */
function manifestMismatch(summary: ManifestSummary, name: string, source: string): string | undefined {
  if (summary.backupName !== name) return `The manifest ${source} names backup ${JSON.stringify(summary.backupName)}, not ${name}.`;
  const zip = blobNames(name).zip;
  if (summary.zip && summary.zip.name !== zip) return `The manifest ${source} names the zip ${JSON.stringify(summary.zip.name)}, not ${zip}.`;
  return undefined;
}

/** The manifest's summary from a bounded read of its head. */
export async function readManifestSummary(store: Store, name: string): Promise<ManifestSummary> {
  const manifestName = blobNames(name).manifest;
  const info = await store.stat(manifestName);
  if (!info) throw notFound(store, name);
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
  if (!(await store.exists(manifestName))) throw notFound(store, name);
  const manifest = parseManifest((await store.readAll(manifestName)).toString("utf8"), manifestName);
  assertManifestOf(manifest, name, manifestName);
  return manifest;
}

/** Deletes a backup's zip, manifest and log together; the manifest first, so a half-deleted backup is never listed as restorable. */
export async function deleteBackup(store: Store, name: string): Promise<void> {
  const names = blobNames(name);
  await store.delete(names.manifest);
  await store.delete(names.zip);
  await store.delete(names.log);
}

function notFound(store: Store, name: string): AppBackupError {
  return new AppBackupError(
    "BACKUP_NOT_FOUND",
    `No backup named ${name} in ${store.location}.`,
    "Run `app-backup list --config FILE` to see the backups in the container.",
  );
}
