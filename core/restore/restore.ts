import { lstatSync, mkdirSync, statfsSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { ZipFormatError } from "../archive/errors.js";
import { readZipIndex, type ZipIndex } from "../archive/zip-index.js";
import { AppBackupError } from "../errors.js";
import { parseMeta, type AppMeta } from "../format/meta.js";
import { CONTENT_PREFIX, META_ENTRY } from "../format/zip-layout.js";
import type { AppBackupOptions } from "../options.js";
import type { Progress } from "../progress.js";
import { archiveProblems, hostileArchiveError } from "./archive-check.js";
import { compareWithManifest, mismatchError, pairEntries } from "./compare.js";
import type { ConfigUpdate } from "./config-update.js";
import { outcomeOf, planDatabaseRestore, restoreDatabases, type DatabaseOutcome } from "./databases.js";
import { ExtractPool } from "./extract-pool.js";
import { extractEntries } from "./extract.js";
import { restoreHomeOf } from "./home.js";
import { createJournal, newRestoreId, readJournal, isRunning, lockedError, removeStrayStaging, restorePaths, writeJournal, type RestoreJournal } from "./journal.js";
import { assertRestorable, openBackupSource, type BackupSelection, type BackupSource } from "./source.js";
import { stageBackup } from "./stage.js";
import { zipSourceOf, type ZipByteSource } from "./store-source.js";
import { completeSwitch, recoverInterruptedRestore, rollBack, type Recovery } from "./switch.js";
import { planTarget, type TargetPlan } from "./target-plan.js";

export type RestorePhase = "check" | "extract" | "databases" | "switch";

/** Progress of a restore; what it writes into the home is what it read, so `bytesOut` follows `bytes`. */
export type RestoreProgress = Progress<RestorePhase>;

export interface RestoreRunOptions extends BackupSelection {
  /** The app to restore into (`--to`); defaults to the app whose options are given. */
  target?: AppBackupOptions;
  ignoreDatabases?: boolean;
  /** Write the backup's app settings into the target's configuration file. */
  restoreSettings?: boolean;
  /** Write the backup's connection strings into the target's configuration file (Azure's adjustConnectionStrings). */
  adjustConnectionStrings?: boolean;
  /** Plan only: report what would be written, deleted and kept; change nothing. */
  dryRun?: boolean;
  onProgress?: (progress: RestoreProgress) => void;
  onLog?: (line: { level: "info" | "warning"; message: string }) => void;
  /** Stops a restore that has not started switching; what was staged is discarded. */
  signal?: AbortSignal;
}

export type RestoreStatus = "Succeeded" | "Failed" | "DryRun";

export interface RestoreResult {
  backup: string;
  /** Name of the app restored into. */
  app: string;
  home: string;
  status: RestoreStatus;
  dryRun: boolean;
  /** Home-relative paths written (folders end with `/`). */
  written: string[];
  /** Home-relative paths of the old home that are gone. */
  deleted: string[];
  /** Top-most paths the backup's filter lines kept as they were. */
  keptByFilter: string[];
  /** Other paths kept as they were, with the reason. */
  keptOther: Array<{ path: string; reason: string }>;
  files: number;
  bytes: number;
  databases: DatabaseOutcome[];
  settingsRestored: string[];
  connectionStringsRestored: string[];
  /** Which parts of the target were changed. */
  parts: { files: boolean; databases: string[]; settings: boolean; connectionStrings: boolean };
  /** An earlier restore of this home that was interrupted, and what this run did about it. */
  recovered?: Recovery;
  warnings: string[];
  error?: { code: string; message: string };
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

/**
 * A restore as a visible pipeline: backup (manifest, status) → checks (the
 * zip's names and types, the zip against the manifest, databases and
 * configuration of the target) → plan (what is written, deleted, kept) →
 * staging beside the home (every entry checked against its SHA-256) →
 * databases → switch (renames, recorded in a journal) → configuration.
 *
 * Until the switch, the home is untouched; a failure or a kill before it
 * leaves the home as it was, one during it is completed by the next run.
 * Bad input throws before anything changes; a failure later returns a
 * `Failed` result saying which parts were restored.
 */
export async function runRestore(options: AppBackupOptions, run: RestoreRunOptions = {}): Promise<RestoreResult> {
  const startedAt = new Date();
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    run.onLog?.({ level: "warning", message });
  };
  const info = (message: string) => run.onLog?.({ level: "info", message });
  const target = run.target ?? options;

  // Worker threads boot while the manifest is read and checked.
  const pool = run.dryRun ? undefined : new ExtractPool().warm();
  try {
    return await restoreWith(options, run, target, pool, warn, info, startedAt, warnings);
  } finally {
    await pool?.close();
  }
}

async function restoreWith(
  options: AppBackupOptions,
  run: RestoreRunOptions,
  target: AppBackupOptions,
  pool: ExtractPool | undefined,
  warn: (message: string) => void,
  info: (message: string) => void,
  startedAt: Date,
  warnings: string[],
): Promise<RestoreResult> {
  const progress = (p: Omit<RestoreProgress, "bytesOut">) => run.onProgress?.({ ...p, bytesOut: p.bytes });
  const source = await openBackupSource(options, run);
  await assertRestorable(source);
  const { manifest } = source;
  const home = resolveHome(target);
  info(`Restoring ${source.name} (${manifest.status}, ${manifest.appName}) into ${target.app.name} at ${home}.`);

  let recovered: Recovery | undefined;
  if (!run.dryRun) {
    recovered = await recoverInterruptedRestore(home);
    if (recovered) {
      warn(
        `An earlier restore of ${recovered.backup} (started ${recovered.startedAt}) was interrupted; it was ${recovered.action}${recovered.action === "rolled back" ? " and the home left as it was" : ""}.` +
          (recovered.databasesRestored.length ? ` It had restored database(s) ${recovered.databasesRestored.join(", ")}.` : ""),
      );
    }
  } else {
    const pending = readJournal(home);
    if (pending) warn(`An interrupted restore of ${pending.backup} will be ${pending.phase === "staging" ? "rolled back" : "completed"} first.`);
  }

  const id = newRestoreId();
  const paths = restorePaths(home, id);
  const zipSource = await openZipSource(source);
  try {
    progress({ phase: "check", files: 0, totalFiles: 0, bytes: 0, totalBytes: 0 });
    const zip = await readArchive(zipSource, source);
    const pairs = checkArchive(zip, source, paths.tree);

    const databasePlans = await planDatabaseRestore(manifest.databases, target, Boolean(run.ignoreDatabases));
    const configUpdate = await planConfigUpdate(zipSource, zip, source, pairs, target, run, pool);
    for (const message of configUpdate?.warnings ?? []) warn(message);

    const plan = planTarget(home, source.entries, manifest.filter.lines, protectedPaths(source, options, target));
    const totals = contentTotals(source.entries, plan);
    if (plan.kept.some((k) => k.reason === "filter")) {
      info(`Partial restore: ${plan.kept.filter((k) => k.reason === "filter").length} path(s) matching the backup's filter are kept as they are.`);
    }

    const base = {
      backup: source.name,
      app: target.app.name,
      home,
      written: plan.written,
      deleted: plan.deleted,
      keptByFilter: plan.kept.filter((k) => k.reason === "filter").map((k) => k.path),
      keptOther: plan.kept.filter((k) => k.reason !== "filter").map((k) => ({ path: k.path, reason: k.reason })),
      recovered,
      warnings,
      startedAt,
    };
    const ignoredDatabases = run.ignoreDatabases ? manifest.databases.map((r) => outcomeOf(r, "ignored")) : [];

    if (run.dryRun) {
      return finish({
        ...base,
        status: "DryRun",
        dryRun: true,
        files: totals.files,
        bytes: totals.bytes,
        databases: [...databasePlans.map((p) => outcomeOf(p.record, "would restore", p.target)), ...ignoredDatabases],
        settingsRestored: configUpdate?.settings ?? [],
        connectionStringsRestored: configUpdate?.connectionStrings ?? [],
        parts: { files: false, databases: [], settings: false, connectionStrings: false },
      });
    }

    mkdirSync(path.dirname(home), { recursive: true });
    checkFreeSpace(home, source.entries, plan, databasePlans.map((p) => p.record.entry));
    const journal = await acquire(home, id, source.name, plan);
    // Only while holding the journal: a staging folder of a restore that is starting must not be taken for a stray one.
    for (const stray of await removeStrayStaging(home, paths)) warn(`Deleted ${stray}, left by a restore that was killed before it started.`);
    const failed = (error: unknown, databases: DatabaseOutcome[]) =>
      finish({
        ...base,
        status: "Failed",
        dryRun: false,
        written: [],
        deleted: [],
        files: 0,
        bytes: 0,
        databases: [...databases, ...ignoredDatabases],
        settingsRestored: [],
        connectionStringsRestored: [],
        parts: { files: false, databases: databases.filter((d) => d.status === "restored").map((d) => d.connectionStringName), settings: false, connectionStrings: false },
        error: describeError(error),
      });

    // A settings restore read the meta before anything was written; staging counts it as done rather than reading it again.
    const metaRead = configUpdate ? { files: 1, bytes: source.entries.sizes[source.entries.names.indexOf(META_ENTRY)]! } : { files: 0, bytes: 0 };
    let staged: Awaited<ReturnType<typeof stageBackup>>;
    try {
      staged = await stageBackup({
        source: zipSource,
        zip,
        entries: source.entries,
        pairs,
        paths,
        plan,
        dumpEntries: new Set(databasePlans.map((p) => p.record.entry)),
        alreadyChecked: new Set(configUpdate ? [META_ENTRY] : []),
        owner: ownerFor(home),
        homeMode: plan.homeExists ? statSync(home).mode : 0o755,
        signal: run.signal,
        pool,
        onProgress: (p) => progress({ phase: "extract", files: metaRead.files + p.files, totalFiles: totals.entries, bytes: metaRead.bytes + p.bytes, totalBytes: totals.entryBytes }),
      });
    } catch (error) {
      // Workers may still be writing into the staging tree: stop them before it is deleted.
      await pool?.close();
      await rollBack(home, journal);
      if (isInputError(error)) throw error;
      return failed(error, databasePlans.map((p) => outcomeOf(p.record, "not restored", p.target)));
    }
    info(`Staged and checked ${staged.files} files (${staged.bytes} bytes) in ${paths.tree}.`);

    let databases: DatabaseOutcome[] = [];
    if (databasePlans.length) {
      progress({ phase: "databases", files: totals.entries, totalFiles: totals.entries, bytes: totals.entryBytes, totalBytes: totals.entryBytes });
      const restoredNames: string[] = [];
      const loaded = await restoreDatabases(databasePlans, staged.dumps, async (outcome) => {
        restoredNames.push(outcome.connectionStringName);
        info(`Restored database ${outcome.connectionStringName} into ${outcome.target}.`);
        await writeJournal({ ...journal, databasesRestored: [...restoredNames] });
      });
      databases = loaded.outcomes;
      if (loaded.failure) {
        await rollBack(home, journal);
        return failed(loaded.failure, databases);
      }
    }
    if (run.signal?.aborted) {
      await rollBack(home, journal);
      return failed(run.signal.reason ?? new Error("The restore was aborted."), databases);
    }

    progress({ phase: "switch", files: totals.entries, totalFiles: totals.entries, bytes: totals.entryBytes, totalBytes: totals.entryBytes });
    const switching: RestoreJournal = { ...journal, phase: "switching", databasesRestored: databases.map((d) => d.connectionStringName) };
    await writeJournal(switching);
    await completeSwitch(home, switching);
    info(`Switched ${home} to the restored tree.`);

    let configFailure: unknown;
    if (configUpdate?.text !== undefined) {
      try {
        await (await import("./config-update.js")).commitConfigUpdate(configUpdate);
      } catch (error) {
        configFailure = error;
      }
    }
    const settingsWritten = configFailure === undefined && (configUpdate?.settings.length ?? 0) > 0;
    const connectionStringsWritten = configFailure === undefined && (configUpdate?.connectionStrings.length ?? 0) > 0;
    return finish({
      ...base,
      status: configFailure === undefined ? "Succeeded" : "Failed",
      dryRun: false,
      files: staged.files,
      bytes: staged.bytes,
      databases: [...databases, ...ignoredDatabases],
      settingsRestored: settingsWritten ? configUpdate!.settings : [],
      connectionStringsRestored: connectionStringsWritten ? configUpdate!.connectionStrings : [],
      parts: { files: true, databases: databases.map((d) => d.connectionStringName), settings: settingsWritten, connectionStrings: connectionStringsWritten },
      error: configFailure === undefined ? undefined : describeError(new AppBackupError("RESTORE", `The files and databases were restored, but ${configUpdate!.configPath} could not be updated: ${(configFailure as Error).message}`)),
    });
  } finally {
    await zipSource.close?.();
  }
}

function finish(result: Omit<RestoreResult, "finishedAt" | "durationMs">): RestoreResult {
  const finishedAt = new Date();
  return { ...result, finishedAt, durationMs: finishedAt.getTime() - result.startedAt.getTime() };
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof AppBackupError) return { code: error.code, message: error.describe() };
  return { code: "RESTORE", message: (error as Error)?.message ?? String(error) };
}

/** Errors that mean "nothing was done because an input is wrong", thrown rather than reported as a failed restore. */
function isInputError(error: unknown): boolean {
  return error instanceof AppBackupError && (error.code === "ARCHIVE_HOSTILE" || error.code === "USAGE" || error.code === "CONFIG_INVALID");
}

/**
 * The home as a real path: a home reached through a symlink is restored where
 * the link points, and the link stays. Its parent must exist or be creatable.
 */
function resolveHome(target: AppBackupOptions): string {
  const declared = path.resolve(target.app.home);
  const info = lstatSync(declared, { throwIfNoEntry: false });
  if (info && !info.isDirectory() && !info.isSymbolicLink()) {
    throw new AppBackupError("HOME_MISSING", `The target home ${declared} is not a folder.`, `Set "home" in ${target.configPath ?? "the configuration"} to the app's folder.`);
  }
  if (!info) return declared;
  const home = restoreHomeOf(target);
  if (!statSync(home).isDirectory()) {
    throw new AppBackupError("HOME_MISSING", `The target home ${declared} is not a folder.`, `Set "home" in ${target.configPath ?? "the configuration"} to the app's folder.`);
  }
  if (path.dirname(home) === home) throw new AppBackupError("USAGE", "The target home cannot be the root folder.");
  if (statSync(home).dev !== statSync(path.dirname(home)).dev) {
    throw new AppBackupError(
      "USAGE",
      `The target home ${home} is a mount point; a restore builds the new home beside it and renames it in, which cannot cross file systems.`,
      "Point home at a folder inside the mounted file system (e.g. mount at /srv/app and use home: /srv/app/home).",
    );
  }
  return home;
}

async function openZipSource(source: BackupSource): Promise<ZipByteSource> {
  try {
    return await zipSourceOf(source.store, source.zipName);
  } catch (error) {
    if (error instanceof AppBackupError) throw error;
    throw new AppBackupError("BACKUP_CORRUPT", `Cannot open the zip of backup ${source.name}: ${(error as Error).message}`);
  }
}

async function readArchive(zipSource: ZipByteSource, source: BackupSource): Promise<ZipIndex> {
  try {
    return await readZipIndex(zipSource);
  } catch (error) {
    if (error instanceof ZipFormatError) {
      throw new AppBackupError("BACKUP_CORRUPT", `The zip of backup ${source.name} cannot be read: ${error.message} Nothing was changed.`, "Restore another backup.");
    }
    throw error;
  }
}

/**
 * The zip's own safety (names, types, overlaps) and its agreement with the
 * manifest; throws before anything is written. Returns, for each manifest
 * entry, its row in the zip.
 */
function checkArchive(zip: ZipIndex, source: BackupSource, tree: string): Int32Array {
  const problems = archiveProblems(zip, { roots: [tree] });
  if (problems.length) throw hostileArchiveError(problems, source.store.urlOf(source.zipName));
  const pairs = pairEntries(source.entries, zip.table);
  const differences = compareWithManifest(source.manifest, source.entries, zip, pairs);
  if (differences.length) throw mismatchError(differences, source.name);
  return pairs;
}

async function planConfigUpdate(
  zipSource: ZipByteSource,
  zip: ZipIndex,
  source: BackupSource,
  pairs: Int32Array,
  target: AppBackupOptions,
  run: RestoreRunOptions,
  pool: ExtractPool | undefined,
): Promise<ConfigUpdate | undefined> {
  if (!run.restoreSettings && !run.adjustConnectionStrings) return undefined;
  if (!target.configPath) {
    throw new AppBackupError("USAGE", "Settings and connection strings can only be restored into an app described by a configuration file.");
  }
  const meta = await readMeta(zipSource, zip, source, pairs, pool);
  const { prepareConfigUpdate } = await import("./config-update.js");
  return prepareConfigUpdate(target.configPath, meta, { settings: Boolean(run.restoreSettings), connectionStrings: Boolean(run.adjustConnectionStrings) });
}

/** The backup's `meta` entry, read and checked against its SHA-256 like every other entry. */
async function readMeta(zipSource: ZipByteSource, zip: ZipIndex, source: BackupSource, pairs: Int32Array, pool: ExtractPool | undefined): Promise<AppMeta> {
  const index = source.entries.names.indexOf(META_ENTRY);
  if (index < 0) throw new AppBackupError("BACKUP_CORRUPT", "The backup has no meta entry, so its settings and connection strings cannot be restored.");
  const item = { name: META_ENTRY, zipIndex: pairs[index]!, digestIndex: index, returnData: true };
  let data: Buffer | undefined;
  try {
    data = (await extractEntries(zipSource, zip, [item], { pool, digests: source.entries })).get(META_ENTRY);
  } catch (error) {
    throw new AppBackupError("BACKUP_CORRUPT", `The backup's meta entry cannot be read or does not match its manifest: ${(error as Error).message}; nothing was changed.`);
  }
  return parseMeta(data!.toString("utf8"));
}

/** Backup files inside the target home are never deleted by restoring into it. */
function protectedPaths(source: BackupSource, options: AppBackupOptions, target: AppBackupOptions): string[] {
  const paths: string[] = [];
  for (const storage of [options.backup.storage, target.backup.storage]) if (storage.kind === "local") paths.push(storage.path);
  const { store } = source;
  if (store.localPath) paths.push(store.localPath(source.zipName), store.localPath(source.manifestName));
  return paths;
}

function contentTotals(entries: EntryTable, plan: TargetPlan) {
  let files = 0;
  let bytes = 0;
  let entryCount = 0;
  let entryBytes = 0;
  for (let index = 0; index < entries.count; index++) {
    const kind = entries.kind(index);
    if (kind === "directory") continue;
    entryCount++;
    entryBytes += entries.sizes[index]!;
    const name = entries.names[index]!;
    if (!name.startsWith(CONTENT_PREFIX) || kind !== "file") continue;
    if (plan.isKept(name.slice(CONTENT_PREFIX.length))) continue;
    files++;
    bytes += entries.sizes[index]!;
  }
  return { files, bytes, entries: entryCount, entryBytes };
}

/** Refuses early when the home's file system cannot hold the staged tree (and dumps) beside the current home. */
function checkFreeSpace(home: string, entries: EntryTable, plan: TargetPlan, dumpEntries: string[]): void {
  let stats: ReturnType<typeof statfsSync>;
  try {
    stats = statfsSync(path.dirname(home));
  } catch {
    return;
  }
  const block = Math.max(512, stats.bsize);
  const dumps = new Set(dumpEntries);
  let needed = 0;
  for (let index = 0; index < entries.count; index++) {
    if (entries.kind(index) !== "file") continue;
    const name = entries.names[index]!;
    const isContent = name.startsWith(CONTENT_PREFIX);
    if (isContent ? plan.isKept(name.slice(CONTENT_PREFIX.length)) : !dumps.has(name)) continue;
    needed += Math.ceil(entries.sizes[index]! / block) * block;
  }
  const available = stats.bavail * stats.bsize;
  if (needed > available) {
    throw new AppBackupError(
      "RESTORE",
      `The restore needs ${formatBytes(needed)} beside the home in ${path.dirname(home)}, but only ${formatBytes(available)} are free; nothing was changed.`,
      "A restore builds the new home next to the old one before switching, so that file system needs room for both. Free space there and run the restore again.",
    );
  }
}

const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

/** Takes the journal (the home's restore lock), after finishing any interrupted restore that appears meanwhile. */
async function acquire(home: string, id: string, backup: string, plan: TargetPlan): Promise<RestoreJournal> {
  const journal: RestoreJournal = {
    formatVersion: 1,
    id,
    backup,
    home,
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    phase: "staging",
    kept: plan.kept.map((k) => k.path),
    databasesRestored: [],
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await createJournal(journal)) return journal;
    const other = readJournal(home);
    if (other && isRunning(other)) throw lockedError(other);
    await recoverInterruptedRestore(home);
  }
  throw new AppBackupError("LOCKED", `Another restore keeps starting on ${home}; nothing was done.`, "Run the restore again once the other one is finished.");
}

/** Running as root over a home owned by someone else: restored paths get the home's owner, so the app can still use them. */
function ownerFor(home: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const info = lstatSync(home, { throwIfNoEntry: false });
  if (!info || (info.uid === 0 && info.gid === 0)) return undefined;
  return { uid: info.uid, gid: info.gid };
}
