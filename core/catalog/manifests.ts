import { AppBackupError } from "../errors.js";
import { blobNames } from "../format/backup-name.js";
import type { EntryTable } from "../archive/entry-table.js";
import { ForeignObjectError, manifestHeadOf, readManifestHead } from "../format/manifest-head.js";
import { parseManifestChunks, readManifestTable } from "../format/manifest-reader.js";
import { parseManifest } from "../format/manifest-xml-parse.js";
import type { BackupManifest, ManifestSummary } from "../format/manifest.js";
import type { Store } from "../store/store.js";
import { assertManifestOf, backupNotFound } from "./manifest-checks.js";

/** The manifest's summary from a bounded read of its head. */
export async function readManifestSummary(store: Store, name: string): Promise<ManifestSummary> {
  const manifestName = blobNames(name).manifest;
  const info = await store.stat(manifestName);
  if (!info) throw backupNotFound(store, name);
  return checkedHead(store, name, () => readManifestHead(store, manifestName, info.size));
}

/** A manifest up to this size is read once, whole: the bytes its head is checked from are those its entries are read from. */
const readWholeBytes = 1024 * 1024;

/**
 * The manifest's summary and entries, its head passed to `check` before the
 * entry list is read: an object that is not our manifest, or that speaks for
 * another backup, is refused without reading more than its head. A manifest
 * larger than readWholeBytes is read twice, by its head (a bounded read) and
 * then in full, and what was read in full is checked again: the object may
 * have been replaced in between.
 */
export async function readCheckedManifestTable(
  store: Store,
  name: string,
  check: (summary: ManifestSummary) => void,
): Promise<{ summary: ManifestSummary; table: EntryTable }> {
  const manifestName = blobNames(name).manifest;
  const info = await store.stat(manifestName);
  if (!info) throw backupNotFound(store, name);
  const whole = info.size <= readWholeBytes ? await readBytes(store, manifestName, info.size) : undefined;
  check(await checkedHead(store, name, () => (whole ? manifestHeadOf(whole, manifestName, info.size) : readManifestHead(store, manifestName, info.size))));
  const read = whole ? parseManifestChunks(whole, manifestName, info.size) : await readManifestTable(store, name, manifestName);
  assertManifestOf(read.summary, name, store.urlOf(manifestName));
  check(read.summary);
  return read;
}

/** A head that is not our manifest's, or that names another backup, is refused as corrupt. */
async function checkedHead(store: Store, name: string, readHead: () => Promise<ManifestSummary>): Promise<ManifestSummary> {
  const manifestName = blobNames(name).manifest;
  let summary: ManifestSummary;
  try {
    summary = await readHead();
  } catch (error) {
    if (error instanceof ForeignObjectError) {
      throw new AppBackupError("BACKUP_CORRUPT", `${store.urlOf(manifestName)} is ${error.message}.`, "Name a backup that `app-backup list` shows.");
    }
    throw error;
  }
  assertManifestOf(summary, name, manifestName);
  return summary;
}

/**
 * The first `size` bytes of an object, never more however large it has grown
 * since (fewer if it shrank), in one read: a folder's file is read without
 * loading Node's file streams, a few milliseconds of a short command.
 */
async function readBytes(store: Store, objectName: string, size: number): Promise<Buffer[]> {
  const source = await store.openRandomAccess(objectName);
  try {
    return [await source.read(0, Math.min(size, source.size))];
  } finally {
    await source.close?.();
  }
}

export async function readManifest(store: Store, name: string): Promise<BackupManifest> {
  const manifestName = blobNames(name).manifest;
  if (!(await store.exists(manifestName))) throw backupNotFound(store, name);
  const manifest = parseManifest((await store.readAll(manifestName)).toString("utf8"), manifestName);
  assertManifestOf(manifest, name, manifestName);
  return manifest;
}
