import type { ArchiveEntry, EntryList } from "../archive/types.js";
import type { DatabaseType, TableSummary } from "../db/types.js";

/** Azure's backup status values (BackupItemStatus). */
export type BackupStatus = "InProgress" | "Succeeded" | "PartiallySucceeded" | "Failed" | "TimedOut" | "Skipped";

export type BackupTrigger = "OnDemand" | "Scheduled";

export interface DatabaseRecord {
  connectionStringName: string;
  databaseType: DatabaseType;
  /** Entry name of the dump in the zip, e.g. `MainDb.sql`. */
  entry: string;
  engine: string;
  serverVersion: string;
  database: string;
  consistency: string;
  sizeBytes: number;
  sha256: string;
  tables: TableSummary[];
  notCovered: string[];
  warnings: string[];
}

/** The `.xml` beside each backup's zip: what is in it, how it went, and what restore needs. */
export interface BackupManifest {
  formatVersion: 1;
  appName: string;
  backupName: string;
  status: BackupStatus;
  trigger: BackupTrigger;
  startedAt: Date;
  finishedAt: Date;
  toolVersion: string;
  /** The zip blob; absent when the backup failed and no zip was committed. */
  zip?: { name: string; sizeBytes: number };
  /** Uncompressed bytes of everything in the zip. */
  contentBytes: number;
  files: number;
  error?: string;
  /** Where the backup was made from (CI run, Pulumi stack...): free-form, never secret. */
  origin: Record<string, string>;
  filter: { source: string; lines: string[] };
  warnings: string[];
  databases: DatabaseRecord[];
  /** Files the walk found but that could not be read: why the backup is PartiallySucceeded. */
  skipped: Array<{ name: string; reason: string }>;
  entries: ArchiveEntry[];
}

/** A manifest as a backup writes it: its entry list is read once, entry by entry. */
export type ManifestToWrite = Omit<BackupManifest, "entries"> & { entries: EntryList };

/**
 * The most a manifest's head (everything before the entry list) may take: a
 * million skipped files fit in less. Anything larger is not a head app-backup writes.
 */
export const MANIFEST_HEAD_LIMIT_BYTES = 128 * 1024 * 1024;

/** The manifest without its entry list: what listing many backups needs. */
export type ManifestSummary = Omit<BackupManifest, "entries">;

export const restorableStatuses: ReadonlySet<BackupStatus> = new Set(["Succeeded", "PartiallySucceeded"]);
