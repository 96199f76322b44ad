import { ZipFormatError } from "../archive/errors.js";
import { readZipIndex, type ZipIndex } from "../archive/zip-index.js";
import { AppBackupError } from "../errors.js";
import { restorableStatuses } from "../format/manifest.js";
import type { AppBackupOptions } from "../options.js";
import { archiveProblems, hostileArchiveError, type EntryProblem } from "./archive-check.js";
import { compareWithManifest, mismatchError, pairEntries, type Difference, type EntryPairs } from "./compare.js";
import { openBackupSource, type BackupSelection, type BackupSource } from "./source.js";
import { zipSourceOf, type ZipByteSource } from "./store-source.js";

/** Why a backup's zip was not even read: a restore refuses it, a verification reports it. */
export type Refusal =
  | { reason: "not restorable" }
  | { reason: "zip missing" }
  | { reason: "zip cannot be opened"; error: unknown }
  | { reason: "zip unreadable"; error: ZipFormatError };

/** A zip whose central directory was read and checked; its source is open until the caller closes it. */
export interface CheckedArchive {
  zipSource: ZipByteSource;
  zip: ZipIndex;
  /** For each manifest entry, its row in the zip (-1 when missing). */
  pairs: EntryPairs;
  /** What makes the zip itself unsafe to write out (names, types, overlapping data). */
  unsafe: EntryProblem[];
  /** Where the zip and its manifest disagree. */
  differences: Difference[];
}

export type Preflight = { source: BackupSource } & ({ refusal: Refusal; archive?: undefined } | { refusal?: undefined; archive: CheckedArchive });

export interface PreflightSteps {
  /**
   * Where content would be staged, for the path-length check. Asked once the
   * backup is known restorable and before its zip is opened: a restore
   * resolves its home (and finishes an interrupted restore) at this point.
   */
  stagingRoot(source: BackupSource): string | Promise<string>;
  /** The zip is open and its central directory is about to be read. */
  onArchiveOpened?(): void;
}

/**
 * What restoring and verifying both do before reading any content: find the
 * backup and read its manifest, check its status and that its zip exists,
 * read the zip's central directory, check its safety and compare it with the
 * manifest. Problems are returned, not thrown, so each caller words them.
 */
export async function preflight(options: AppBackupOptions, selection: BackupSelection, steps: PreflightSteps): Promise<Preflight> {
  const source = await openBackupSource(options, selection);
  const { manifest } = source;
  if (!restorableStatuses.has(manifest.status) || !manifest.zip) return { source, refusal: { reason: "not restorable" } };
  if (!(await source.store.exists(source.zipName))) return { source, refusal: { reason: "zip missing" } };
  const stagingRoot = await steps.stagingRoot(source);

  let zipSource: ZipByteSource;
  try {
    zipSource = await zipSourceOf(source.store, source.zipName);
  } catch (error) {
    return { source, refusal: { reason: "zip cannot be opened", error } };
  }
  let zip: ZipIndex;
  try {
    steps.onArchiveOpened?.();
    // Read against the manifest: the names and facts both list in the same order are held once.
    zip = await readZipIndex(zipSource, { sameAs: source.entries });
  } catch (error) {
    await zipSource.close?.();
    if (error instanceof ZipFormatError) return { source, refusal: { reason: "zip unreadable", error } };
    throw error;
  }
  const unsafe = archiveProblems(zip, { roots: [stagingRoot] });
  const pairs = pairEntries(source.entries, zip.table);
  const differences = compareWithManifest(manifest, source.entries, zip, pairs);
  return { source, archive: { zipSource, zip, pairs, unsafe, differences } };
}

/**
 * The checked archive of a backup that may be restored, or the error a
 * restore stops with, before anything is written (the zip is closed then).
 */
export async function restorableArchive({ source, refusal, archive }: Preflight): Promise<CheckedArchive> {
  if (refusal) throw refusalError(source, refusal);
  if (!archive.unsafe.length && !archive.differences.length) return archive;
  await archive.zipSource.close?.();
  if (archive.unsafe.length) throw hostileArchiveError(archive.unsafe, source.store.urlOf(source.zipName));
  throw mismatchError(archive.differences, source.name);
}

function refusalError(source: BackupSource, refusal: Refusal): Error {
  const { manifest } = source;
  switch (refusal.reason) {
    case "not restorable":
      return new AppBackupError(
        "BACKUP_NOT_RESTORABLE",
        `Backup ${source.name} is ${manifest.status}${manifest.error ? ` (${manifest.error})` : ""}; it cannot be restored.`,
        "Restore a Succeeded or PartiallySucceeded backup; `app-backup list` shows their status.",
      );
    case "zip missing":
      return new AppBackupError(
        "BACKUP_CORRUPT",
        `The zip of backup ${source.name} (${source.store.urlOf(source.zipName)}) is missing; the backup cannot be restored.`,
        "The manifest is there but the zip was deleted or never uploaded; restore another backup.",
      );
    case "zip cannot be opened":
      if (refusal.error instanceof AppBackupError) return refusal.error;
      return new AppBackupError("BACKUP_CORRUPT", `Cannot open the zip of backup ${source.name}: ${(refusal.error as Error).message}`);
    case "zip unreadable":
      return new AppBackupError("BACKUP_CORRUPT", `The zip of backup ${source.name} cannot be read: ${refusal.error.message} Nothing was changed.`, "Restore another backup.");
  }
}
