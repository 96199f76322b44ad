import os from "node:os";
import { ArchiveOutput } from "../archive/archive-output.js";
import type { SkippedEntry } from "../archive/types.js";
import { ZipWriter, SizeLimitExceededError } from "../archive/zip-writer.js";
import { AppBackupError, type ErrorCode } from "../errors.js";
import { blobNames, isValidBackupName } from "../format/backup-name.js";
import { catalogFactsOf, catalogMetadataOf } from "../format/catalog-metadata.js";
import { manifestXmlChunks } from "../format/manifest-xml.js";
import type { BackupStatus, BackupTrigger, DatabaseRecord, ManifestToWrite } from "../format/manifest.js";
import { metaToXml } from "../format/meta.js";
import { contentEntryName, META_ENTRY } from "../format/zip-layout.js";
import type { AppBackupOptions } from "../options.js";
import type { RecordSpoolOptions } from "../spool/record-spool.js";
import { openStore } from "../store/open.js";
import { assertContainerAllows } from "../store/preflight.js";
import type { StagedUpload, Store } from "../store/store.js";
import { monotonicMs } from "../monotonic-clock.js";
import { toolVersion } from "../version.js";
import { appMetaOf } from "./app-meta.js";
import { archiveDatabases } from "./databases.js";
import { BackupLog, type LogLine } from "./log.js";
import { planBackup, sizeLimitError, type BackupPlan } from "./plan.js";
import { BackupProgressCounter, type BackupProgress } from "./progress.js";
import { redactorFor } from "./redactor.js";
import { claimBackupName } from "./reserve-name.js";

/** Content entries handed to the zip writer ahead of what it has written: enough to keep every worker busy. */
const QUEUE_WINDOW = 4096;

export interface BackupRunOptions {
  /** Overrides `{app}_{yyyyMMddHHmmss}`. */
  name?: string;
  trigger?: BackupTrigger;
  /** The backup's start time (tests and scheduled runs); defaults to now. */
  now?: Date;
  /** Where the backup was made from, recorded in the manifest (CI run, Pulumi stack...). */
  origin?: Record<string, string>;
  onProgress?: (progress: BackupProgress) => void;
  onLog?: (line: LogLine) => void;
  /** How long the claim on the backup's name outlives a run that was stopped; defaults to the app lock's time-to-live. */
  claimTtlMs?: number;
  /** Told the backup's name once it is claimed, before anything of the backup is written. */
  onNameClaimed?: (name: string) => void;
  /** The store to use instead of opening one from the options (schedules reuse theirs). */
  store?: Store;
  /**
   * Where the run keeps what it records per file (the walk's entries, the zip's
   * written entries): in memory up to a threshold, then in a temp file in the
   * system's temp folder. Tests set a tiny threshold to take the temp-file path.
   */
  spool?: RecordSpoolOptions;
  /**
   * Stops the backup at its next step, before its zip is committed: the staged
   * upload is discarded, the name's claim given up, nothing of the backup stays,
   * and the run rejects with the signal's reason. Once the zip is committed the
   * backup is finished (log, manifest), so it is never left half-written.
   */
  signal?: AbortSignal;
}

export interface BackupResult {
  name: string;
  appName: string;
  status: BackupStatus;
  trigger: BackupTrigger;
  /** Addresses without credentials; `zip` is absent when the backup failed. */
  zip?: string;
  manifest: string;
  log: string;
  /** Size of the zip in bytes (0 when failed). */
  sizeBytes: number;
  files: number;
  contentBytes: number;
  databases: Array<Pick<DatabaseRecord, "connectionStringName" | "engine" | "sizeBytes" | "consistency" | "tables">>;
  skipped: SkippedEntry[];
  warnings: string[];
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  /** Why the backup failed, redacted. */
  error?: string;
  /** The code of the error that failed the backup, when it was one of ours (STORAGE_UNREACHABLE, STORAGE_AUTH, DATABASE...). */
  errorCode?: ErrorCode;
}

/**
 * A backup as a visible pipeline: plan (home, filter, walk, size) → sources
 * (meta, database dumps, content files) → archive writer (streaming zip) →
 * store (staged upload committed in one step, then the log, then the manifest).
 *
 * Bad input throws before anything is written. A failure after writing started
 * leaves no zip, and records the backup as `Failed` with its log.
 */
export async function runBackup(options: AppBackupOptions, run: BackupRunOptions = {}): Promise<BackupResult> {
  const startedAt = run.now ?? new Date();
  // Durations come from a monotonic clock, so a backup evaluated at a given `now` still records its real length.
  const clockStart = monotonicMs();
  const finishTime = () => new Date(startedAt.getTime() + Math.round(monotonicMs() - clockStart));
  const redactor = redactorFor(options);
  const log = new BackupLog(redactor, run.onLog);
  if (run.name !== undefined && !isValidBackupName(run.name)) {
    throw new AppBackupError("USAGE", `"${run.name}" is not a valid backup name.`, "Use letters, digits, '-', '_' and '.', starting with a letter or digit.");
  }
  const { signal } = run;
  signal?.throwIfAborted();
  const store = run.store ?? (await openStore(options.backup.storage));
  const trigger = run.trigger ?? "OnDemand";

  // Before the walk and the database dumps: a container this run cannot write fails it now.
  await assertContainerAllows(store, "backup", { abortSignal: signal });
  signal?.throwIfAborted();
  const plan = await planBackup(options, log, run.spool);
  try {
    return await backUpPlanned(options, run, { plan, store, log, redactor, startedAt, finishTime, trigger });
  } finally {
    plan.walk.entries.close();
    await plan.home.close();
  }
}

/** The backup once its plan is made: claim, archive, then the log and the manifest. */
async function backUpPlanned(
  options: AppBackupOptions,
  run: BackupRunOptions,
  { plan, store, log, redactor, startedAt, finishTime, trigger }: { plan: BackupPlan; store: Store; log: BackupLog; redactor: ReturnType<typeof redactorFor>; startedAt: Date; finishTime: () => Date; trigger: BackupTrigger },
): Promise<BackupResult> {
  const { signal } = run;
  signal?.throwIfAborted();
  const claim = await claimBackupName(store, { appName: options.app.name, startedAt, trigger, givenName: run.name, ttlMs: run.claimTtlMs, onWarning: (message) => log.warning(message) });
  const { name } = claim;
  run.onNameClaimed?.(name);
  const names = blobNames(name);
  log.info(`Backing up ${options.app.name} from ${plan.home.description} to ${store.location} as ${name} (${trigger}).`);

  let status: BackupStatus = "Failed";
  let error: string | undefined;
  let errorCode: ErrorCode | undefined;
  let archived: Awaited<ReturnType<typeof archive>> | undefined;
  try {
    archived = await archive(options, plan, store, names.zip, log, startedAt, run, signal);
    status = archived.skipped.length > 0 ? "PartiallySucceeded" : "Succeeded";
    for (const item of archived.skipped) log.warning(`Not in the backup: ${item.name}: ${item.reason}.`);
  } catch (failure) {
    if (signal?.aborted) {
      await claim.release();
      throw signal.reason;
    }
    error = redactor.redact(failure instanceof AppBackupError ? failure.describe() : (failure as Error).message ?? String(failure));
    if (failure instanceof AppBackupError) errorCode = failure.code;
    log.error(`Backup failed: ${error}`);
  }
  const finishedAt = finishTime();
  log.info(`Backup ${name} ${status} in ${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s.`);

  const manifest: ManifestToWrite = {
    formatVersion: 1,
    appName: options.app.name,
    backupName: name,
    status,
    trigger,
    startedAt,
    finishedAt,
    toolVersion,
    zip: archived ? { name: names.zip, sizeBytes: archived.sizeBytes } : undefined,
    contentBytes: archived?.contentBytes ?? 0,
    files: archived?.files ?? 0,
    error,
    origin: Object.fromEntries(Object.entries(run.origin ?? {}).map(([k, v]) => [k, redactor.redact(v)])),
    filter: { source: plan.filter.isEmpty ? "" : plan.filter.source, lines: plan.filter.lines },
    warnings: log.warnings,
    databases: archived?.databases ?? [],
    skipped: archived?.skipped ?? [],
    entries: archived?.entries ?? [],
  };
  // The manifest is written last and never overwrites: its presence is what makes a backup exist. The
  // log may replace one of a scheduled run that was killed before its manifest (see claimBackupName).
  try {
    await store.put(names.log, log.toString(), { overwrite: true });
    await writeManifest(store, names.manifest, manifest);
  } finally {
    archived?.entries.close();
    await claim.release();
  }

  return {
    name,
    appName: options.app.name,
    status,
    trigger,
    zip: archived ? store.urlOf(names.zip) : undefined,
    manifest: store.urlOf(names.manifest),
    log: store.urlOf(names.log),
    sizeBytes: archived?.sizeBytes ?? 0,
    files: archived?.files ?? 0,
    contentBytes: archived?.contentBytes ?? 0,
    databases: (archived?.databases ?? []).map(({ connectionStringName, engine, sizeBytes, consistency, tables }) => ({
      connectionStringName,
      engine,
      sizeBytes,
      consistency,
      tables,
    })),
    skipped: archived?.skipped ?? [],
    warnings: log.warnings,
    startedAt,
    finishedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    error,
    ...(errorCode ? { errorCode } : {}),
  };
}

async function archive(
  options: AppBackupOptions,
  plan: BackupPlan,
  store: Store,
  zipName: string,
  log: BackupLog,
  startedAt: Date,
  run: BackupRunOptions,
  signal?: AbortSignal,
) {
  // The zip's steps (meta, dumps, content entries, commit) are where an aborted run stops.
  const upload: StagedUpload = await store.upload(zipName, { abortSignal: signal });
  const progress = new BackupProgressCounter({ files: plan.walk.files, bytes: plan.walk.contentBytes }, run.onProgress);
  const zip = new ZipWriter(upload, {
    ...(plan.home.readsOnMainThread ? { workers: Math.max(1, os.availableParallelism() - 1) } : {}),
    deflate: plan.deflate,
    // The total (content + database dumps) is what the limit caps, as in Azure.
    maxBytesIn: options.backup.maxSizeBytes,
    onProgress: (p) => progress.archived(p),
    spool: run.spool,
  });
  log.info(`Compression: ${zip.compression}.`);
  try {
    const meta = await appMetaOf(options, (message) => log.warning(message));
    const metaXml = Buffer.from(metaToXml(meta));
    zip.addBuffer(META_ENTRY, metaXml, { mtime: startedAt, mode: 0o100644 });
    signal?.throwIfAborted();
    const databases = await archiveDatabases(options, zip, log, startedAt, signal);
    signal?.throwIfAborted();

    // The meta entry and the dumps are written before any content entry: their bytes are not the home's.
    await zip.whenQueuedAtMost(0);
    progress.startContent(metaXml.length + databases.reduce((sum, d) => sum + d.sizeBytes, 0));
    const unread = await plan.home.addContent(plan.walk.entries, zip, { window: QUEUE_WINDOW, signal });
    const result = await zip.finish();
    const skipped = [
      ...plan.walk.unreadable.map((u) => ({ name: contentEntryName(u.path), reason: u.reason })),
      ...unread,
      ...result.skipped,
    ];
    const databaseBytes = databases.reduce((sum, d) => sum + d.sizeBytes, 0);
    // Every entry's bytes; the home's alone (the measure of the plan's total) leave out the meta entry and the dumps.
    const contentBytes = result.entries.bytes;
    const homeBytes = contentBytes - metaXml.length - databaseBytes;
    const files = result.entries.files - 1 - databases.length;
    signal?.throwIfAborted();
    await upload.commit();
    log.info(
      `Archived ${files} files and ${databases.length} database(s) (${databaseBytes} bytes of dumps) into ${upload.bytesWritten} bytes.`,
    );
    progress.finished({ bytes: homeBytes, bytesOut: upload.bytesWritten });
    return {
      entries: result.entries,
      skipped,
      databases,
      sizeBytes: upload.bytesWritten,
      contentBytes,
      files,
    };
  } catch (error) {
    await zip.abort();
    await upload.abort();
    if (error instanceof SizeLimitExceededError) {
      throw sizeLimitError(options.backup.maxSizeBytes, error.seenBytes, { what: "website + database", atLeast: true });
    }
    throw error;
  }
}

/**
 * Streams the manifest into a staged upload: a site of hundreds of thousands of
 * files makes a manifest of tens of megabytes, never held whole in memory. The
 * commit never overwrites, as the manifest is what makes a backup exist, and
 * carries the backup's catalog facts as metadata: they become visible with the
 * manifest, so a listing knows the backup without opening it.
 */
async function writeManifest(store: Store, name: string, manifest: ManifestToWrite): Promise<void> {
  const upload = await store.upload(name, { metadata: catalogMetadataOf(catalogFactsOf(manifest)) });
  const output = new ArchiveOutput(upload);
  try {
    for (const chunk of manifestXmlChunks(manifest)) await output.writeText(chunk);
    await output.flush();
    await upload.commit();
  } catch (error) {
    await upload.abort();
    throw error;
  }
}
