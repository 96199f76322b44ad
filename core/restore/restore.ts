import { mkdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { EntryTable } from "../archive/entry-table.js";
import { ExtractPool } from "../archive/extract-pool.js";
import { AppBackupError } from "../errors.js";
import type { RemoteRestoreJournal } from "../home/home.js";
import { openRemoteHome, type RemoteHomeAccess } from "../home/open-home.js";
import { CONTENT_PREFIX, META_ENTRY } from "../format/zip-layout.js";
import type { AppBackupOptions } from "../options.js";
import type { Progress } from "../progress.js";
import type { ConfigUpdate } from "./config-update.js";
import { outcomeOf, planDatabaseRestore, restoreDatabases, type DatabaseOutcome, type DatabaseRestorePlan } from "./databases.js";
import { newRestoreId, readJournal, removeStrayStaging, restorePaths, writeJournal, type RestoreJournal, type RestorePaths } from "./journal.js";
import { preflight, restorableArchive, type CheckedArchive } from "./preflight.js";
import { acquireJournal } from "./restore-lock.js";
import { dryRunResult, failedResult, resultBase, switchedResult, type RestoreResult, type ResultBase } from "./restore-result.js";
import { planConfigUpdate } from "./settings-plan.js";
import type { BackupSelection, BackupSource } from "./source.js";
import { stageBackup, type StagedBackup } from "./stage.js";
import { removeTreeOnWorkers } from "./parallel-removal.js";
import { completeSwitch, recoverInterruptedRestore, rollBack, type Recovery } from "./switch.js";
import { checkFreeSpace, ownerFor, resolveHome } from "./target-home.js";
import { planTarget, spooledCurrentHome, type CurrentHome, type TargetPlan } from "./target-plan.js";

export type { RestoreResult, RestoreStatus } from "./restore-result.js";

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
  // Worker threads boot while the manifest is read and checked.
  const pool = run.dryRun ? undefined : new ExtractPool().warm();
  try {
    return await new RestoreRun(options, run, pool, startedAt).restore();
  } finally {
    await pool?.close();
  }
}

/** What the restore will do, decided before anything is written. */
interface RestorePlan {
  databases: DatabaseRestorePlan[];
  /** Databases the run was told to leave alone. */
  ignoredDatabases: DatabaseOutcome[];
  configUpdate: ConfigUpdate | undefined;
  target: TargetPlan;
  totals: ContentTotals;
  /** What every result of this restore says. */
  base: ResultBase;
}

/** One restore, step by step; each step's comment says what it may change. */
class RestoreRun {
  private readonly warnings: string[] = [];
  private readonly target: AppBackupOptions;
  private home = "";
  private id = "";
  private paths!: RestorePaths;
  private recovered: Recovery | undefined;
  /** A home on another machine: the backup's tree is staged and checked here, in `localRoot`, then sent. */
  private remote: RemoteHomeAccess | undefined;
  private localRoot: string | undefined;

  constructor(
    private readonly options: AppBackupOptions,
    private readonly run: RestoreRunOptions,
    private readonly pool: ExtractPool | undefined,
    private readonly startedAt: Date,
  ) {
    this.target = run.target ?? options;
  }

  async restore(): Promise<RestoreResult> {
    const checked = await preflight(this.options, this.run, {
      stagingRoot: (source) => this.prepareHome(source),
      onArchiveOpened: () => this.progress({ phase: "check", files: 0, totalFiles: 0, bytes: 0, totalBytes: 0 }),
    });
    const { source } = checked;
    const archive = await restorableArchive(checked);
    try {
      const plan = await this.plan(source, archive);
      if (this.run.dryRun) {
        const databases = [...plan.databases.map((p) => outcomeOf(p.record, "would restore", p.target)), ...plan.ignoredDatabases];
        return dryRunResult(plan.base, plan.totals, databases, plan.configUpdate);
      }
      return await this.apply(source, archive, plan);
    } finally {
      await archive.zipSource.close?.();
      source.entries.close();
      await this.remote?.close();
      if (this.localRoot && !this.run.dryRun) await rm(this.localRoot, { recursive: true, force: true });
    }
  }

  /** The home resolved and any interrupted restore of it finished (a dry run only says what would be); returns where staging goes. */
  private async prepareHome(source: BackupSource): Promise<string> {
    if (this.target.app.remote) return this.prepareRemoteHome(source);
    const { manifest } = source;
    this.home = resolveHome(this.target);
    this.info(`Restoring ${source.name} (${manifest.status}, ${manifest.appName}) into ${this.target.app.name} at ${this.home}.`);
    if (this.run.dryRun) {
      const pending = readJournal(this.home);
      if (pending) this.warn(`An interrupted restore of ${pending.backup} will be ${pending.phase === "staging" ? "rolled back" : "completed"} first.`);
    } else {
      this.recovered = await recoverInterruptedRestore(this.home);
      if (this.recovered) this.warn(recoveryWarning(this.recovered));
    }
    this.id = newRestoreId();
    this.paths = restorePaths(this.home, this.id);
    return this.paths.tree;
  }

  /** The remote home reached and any interrupted restore of it settled; staging goes to a local temp folder. */
  private async prepareRemoteHome(source: BackupSource): Promise<string> {
    const { manifest } = source;
    this.remote = await openRemoteHome(this.target.app.remote!, { warning: (message) => this.warn(message) });
    this.home = this.remote.description;
    this.info(`Restoring ${source.name} (${manifest.status}, ${manifest.appName}) into ${this.target.app.name} at ${this.home}.`);
    if (this.run.dryRun) {
      const pending = await this.remote.pendingJournal();
      if (pending) this.warn(`An interrupted restore of ${pending.backup} will be ${pending.phase === "staging" ? "rolled back" : "completed"} first.`);
    } else {
      this.recovered = await this.remote.recover();
      if (this.recovered) this.warn(recoveryWarning(this.recovered));
    }
    this.id = newRestoreId();
    // A dry run creates nothing: the name only serves the archive's path checks.
    this.localRoot = this.run.dryRun ? path.join(os.tmpdir(), "app-backup-restore") : await mkdtemp(path.join(os.tmpdir(), "app-backup-restore-"));
    this.paths = restorePaths(path.join(this.localRoot, "home"), this.id);
    return this.paths.tree;
  }

  /** The remote home's paths, walked once for the plan. */
  private async remoteCurrentHome(): Promise<CurrentHome & { close(): void }> {
    const { exists, walk } = await this.remote!.listCurrent({});
    return Object.assign(spooledCurrentHome(this.home, exists, walk), { close: () => walk.entries.close() });
  }

  /** Databases, configuration and files: what would be restored, written, deleted and kept. Changes nothing. */
  private async plan(source: BackupSource, archive: CheckedArchive): Promise<RestorePlan> {
    const { manifest } = source;
    const databases = await planDatabaseRestore(manifest.databases, this.target, Boolean(this.run.ignoreDatabases));
    const wanted = { settings: Boolean(this.run.restoreSettings), connectionStrings: Boolean(this.run.adjustConnectionStrings) };
    const configUpdate = await planConfigUpdate(source, archive, this.target, wanted, this.pool);
    for (const message of configUpdate?.warnings ?? []) this.warn(message);

    const current = this.remote ? await this.remoteCurrentHome() : undefined;
    let target: TargetPlan;
    try {
      target = current
        ? planTarget(current, source.entries, manifest.filter.lines, [])
        : planTarget(this.home, source.entries, manifest.filter.lines, protectedPaths(source, this.options, this.target));
    } finally {
      current?.close();
    }
    const keptByFilter = target.kept.filter((k) => k.reason === "filter").length;
    if (keptByFilter) this.info(`Partial restore: ${keptByFilter} path(s) matching the backup's filter are kept as they are.`);
    return {
      databases,
      ignoredDatabases: this.run.ignoreDatabases ? manifest.databases.map((r) => outcomeOf(r, "ignored")) : [],
      configUpdate,
      target,
      totals: contentTotals(source.entries, target),
      base: resultBase({ backup: source.name, app: this.target.app.name, home: this.home, recovered: this.recovered, warnings: this.warnings, startedAt: this.startedAt }, target),
    };
  }

  /** Takes the journal, stages, loads databases and switches; anything that fails before the switch is rolled back. */
  private async apply(source: BackupSource, archive: CheckedArchive, plan: RestorePlan): Promise<RestoreResult> {
    if (this.remote) return this.applyRemote(this.remote, source, archive, plan);
    mkdirSync(path.dirname(this.home), { recursive: true });
    checkFreeSpace(this.home, source.entries, plan.target, plan.databases.map((p) => p.record.entry));
    const journal = await acquireJournal(this.home, this.id, source.name, plan.target);
    // Only while holding the journal: a staging folder of a restore that is starting must not be taken for a stray one.
    for (const stray of await removeStrayStaging(this.home, this.paths)) this.warn(`Deleted ${stray}, left by a restore that was killed before it started.`);
    const undo = () => rollBack(this.home, journal);
    const failed = async (error: unknown, databases: DatabaseOutcome[]) => {
      await undo();
      return failedResult(plan.base, error, databases, plan.ignoredDatabases);
    };

    const staging = await this.stageOrUndo(source, archive, plan, failed, undo);
    if ("failed" in staging) return staging.failed;
    const { staged } = staging;
    this.info(`Staged and checked ${staged.files} files (${staged.bytes} bytes) in ${this.paths.tree}.`);

    const loaded = await this.loadDatabases(plan, staged, (restored) => writeJournal({ ...journal, databasesRestored: restored }));
    if (loaded.failure) return failed(loaded.failure, loaded.outcomes);
    if (this.run.signal?.aborted) return failed(this.run.signal.reason ?? new Error("The restore was aborted."), loaded.outcomes);

    await this.switchHome(plan, journal, loaded.outcomes);
    const configFailure = await commitConfig(plan.configUpdate);
    return switchedResult(plan.base, staged, loaded.outcomes, plan.ignoredDatabases, plan.configUpdate, configFailure);
  }

  /**
   * The same steps for a home on another machine: the journal is kept beside
   * the remote home, the tree is staged and checked here, sent beside the
   * remote home, and switched in there (see RemoteRestoreTarget).
   */
  private async applyRemote(remote: RemoteHomeAccess, source: BackupSource, archive: CheckedArchive, plan: RestorePlan): Promise<RestoreResult> {
    const localHome = path.dirname(this.paths.tree);
    checkFreeSpace(path.join(localHome, "home"), source.entries, plan.target, plan.databases.map((p) => p.record.entry));
    let journal: RemoteRestoreJournal = {
      formatVersion: 1,
      id: this.id,
      backup: source.name,
      home: this.home,
      host: os.hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      phase: "staging",
      kept: plan.target.kept.map((k) => k.path),
      databasesRestored: [],
    };
    await remote.begin(journal);
    const rollBack = async () => {
      // A lost connection leaves the journal: the next restore of this home rolls it back.
      await remote.rollBack(journal).catch((error: unknown) => this.warn(`Could not remove what this restore sent beside ${this.home} (${(error as Error).message}); the next restore of this home removes it.`));
    };
    const failed = async (error: unknown, databases: DatabaseOutcome[]) => {
      await rollBack();
      return failedResult(plan.base, error, databases, plan.ignoredDatabases);
    };
    const notRestored = () => plan.databases.map((p) => outcomeOf(p.record, "not restored", p.target));

    const staging = await this.stageOrUndo(source, archive, plan, failed, rollBack);
    if ("failed" in staging) return staging.failed;
    const { staged } = staging;
    this.info(`Staged and checked ${staged.files} files (${staged.bytes} bytes) in ${this.paths.tree}.`);
    try {
      await remote.upload(this.paths.tree, { signal: this.run.signal });
    } catch (error) {
      return failed(error, notRestored());
    }
    this.info(`Sent the restored tree beside ${this.home}.`);

    const loaded = await this.loadDatabases(plan, staged, async (restored) => {
      journal = { ...journal, databasesRestored: restored };
      await remote.record(journal);
    });
    if (loaded.failure) return failed(loaded.failure, loaded.outcomes);
    if (this.run.signal?.aborted) return failed(this.run.signal.reason ?? new Error("The restore was aborted."), loaded.outcomes);

    this.progressComplete("switch", plan.totals);
    try {
      await remote.switchTo({ ...journal, phase: "switching", databasesRestored: loaded.outcomes.map((d) => d.connectionStringName) });
    } catch (error) {
      throw switchCutError(this.home, error);
    }
    this.info(`Switched ${this.home} to the restored tree.`);
    const configFailure = await commitConfig(plan.configUpdate);
    return switchedResult(plan.base, staged, loaded.outcomes, plan.ignoredDatabases, plan.configUpdate, configFailure);
  }

  /**
   * Stages the tree; if that fails, what the restore began is undone: an input error
   * (a hostile archive, a bad option) is thrown, any other becomes the Failed result.
   */
  private async stageOrUndo(
    source: BackupSource,
    archive: CheckedArchive,
    plan: RestorePlan,
    failed: (error: unknown, databases: DatabaseOutcome[]) => Promise<RestoreResult>,
    undo: () => Promise<void>,
  ): Promise<{ staged: StagedBackup } | { failed: RestoreResult }> {
    try {
      return { staged: await this.stage(source, archive, plan) };
    } catch (error) {
      // Workers may still be writing into the staging tree: stop them before it is deleted.
      await this.pool?.close();
      if (isInputError(error)) {
        await undo();
        throw error;
      }
      return { failed: await failed(error, plan.databases.map((p) => outcomeOf(p.record, "not restored", p.target))) };
    }
  }

  /** Builds the backup's tree beside the home, every entry checked; the home is untouched. */
  private stage(source: BackupSource, archive: CheckedArchive, plan: RestorePlan): Promise<StagedBackup> {
    const { totals } = plan;
    // A settings restore read the meta before anything was written; staging counts it as done rather than reading it again.
    const metaRead = plan.configUpdate ? { files: 1, bytes: source.entries.sizes[source.entries.names.indexOf(META_ENTRY)]! } : { files: 0, bytes: 0 };
    return stageBackup({
      source: archive.zipSource,
      zip: archive.zip,
      entries: source.entries,
      pairs: archive.pairs,
      paths: this.paths,
      plan: plan.target,
      dumpEntries: new Set(plan.databases.map((p) => p.record.entry)),
      alreadyChecked: new Set(plan.configUpdate ? [META_ENTRY] : []),
      owner: this.remote ? undefined : ownerFor(this.home),
      // A remote home's own mode is kept by its switch, which renames it rather than the folder's mode.
      homeMode: plan.target.homeExists && !this.remote ? statSync(this.home).mode : 0o755,
      signal: this.run.signal,
      pool: this.pool,
      onProgress: (p) => this.progress({ phase: "extract", files: metaRead.files + p.files, totalFiles: totals.entries, bytes: metaRead.bytes + p.bytes, totalBytes: totals.entryBytes }),
    });
  }

  /** Loads the staged dumps, each one recorded in the journal as soon as it is in. */
  private async loadDatabases(plan: RestorePlan, staged: StagedBackup, record: (restored: string[]) => Promise<void>): Promise<{ outcomes: DatabaseOutcome[]; failure?: AppBackupError }> {
    if (!plan.databases.length) return { outcomes: [] };
    this.progressComplete("databases", plan.totals);
    const restoredNames: string[] = [];
    return restoreDatabases(plan.databases, staged.dumps, async (outcome) => {
      restoredNames.push(outcome.connectionStringName);
      this.info(`Restored database ${outcome.connectionStringName} into ${outcome.target}.`);
      await record([...restoredNames]);
    });
  }

  /** Renames the staged tree into place; from here on an interruption is completed, not rolled back. */
  private async switchHome(plan: RestorePlan, journal: RestoreJournal, databases: DatabaseOutcome[]): Promise<void> {
    this.progressComplete("switch", plan.totals);
    const switching: RestoreJournal = { ...journal, phase: "switching", databasesRestored: databases.map((d) => d.connectionStringName) };
    await writeJournal(switching);
    const pool = this.pool;
    await completeSwitch(this.home, switching, pool ? (tree) => removeTreeOnWorkers(tree, pool) : undefined);
    this.info(`Switched ${this.home} to the restored tree.`);
  }

  private progress(p: Omit<RestoreProgress, "bytesOut">): void {
    this.run.onProgress?.({ ...p, bytesOut: p.bytes });
  }

  /** Every entry read: the phases after staging. */
  private progressComplete(phase: RestorePhase, totals: ContentTotals): void {
    this.progress({ phase, files: totals.entries, totalFiles: totals.entries, bytes: totals.entryBytes, totalBytes: totals.entryBytes });
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.run.onLog?.({ level: "warning", message });
  }

  private info(message: string): void {
    this.run.onLog?.({ level: "info", message });
  }
}

function recoveryWarning(recovered: Recovery): string {
  return (
    `An earlier restore of ${recovered.backup} (started ${recovered.startedAt}) was interrupted; it was ${recovered.action}${recovered.action === "rolled back" ? " and the home left as it was" : ""}.` +
    (recovered.databasesRestored.length ? ` It had restored database(s) ${recovered.databasesRestored.join(", ")}.` : "")
  );
}

/** A switch of a remote home cut short: the journal says so, and the next restore of the home finishes it. */
function switchCutError(home: string, error: unknown): AppBackupError {
  const said = error instanceof AppBackupError ? error.message : (error as Error).message ?? String(error);
  return new AppBackupError(
    error instanceof AppBackupError ? error.code : "RESTORE",
    `The restore was switching ${home} when it stopped: ${said}`,
    "Run the restore again once the home can be reached: it finishes this switch first (the journal beside the home records where it stopped).",
    { cause: error },
  );
}

/** Writes the planned configuration change; returns why it failed, since the home is already switched by then. */
async function commitConfig(configUpdate: ConfigUpdate | undefined): Promise<unknown> {
  if (configUpdate?.text === undefined && !configUpdate?.apply) return undefined;
  try {
    await (await import("./config-update.js")).commitConfigUpdate(configUpdate);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Errors that mean "nothing was done because an input is wrong", thrown rather than reported as a failed restore. */
function isInputError(error: unknown): boolean {
  return error instanceof AppBackupError && (error.code === "ARCHIVE_HOSTILE" || error.code === "USAGE" || error.code === "CONFIG_INVALID");
}

/** Backup files inside the target home are never deleted by restoring into it. */
function protectedPaths(source: BackupSource, options: AppBackupOptions, target: AppBackupOptions): string[] {
  const paths: string[] = [];
  for (const storage of [options.backup.storage, target.backup.storage]) if (storage.kind === "local") paths.push(storage.path);
  const { store } = source;
  if (store.localPath) paths.push(store.localPath(source.zipName), store.localPath(source.manifestName));
  return paths;
}

/** Content files and bytes the restore writes, and every non-folder entry it reads (for progress). */
interface ContentTotals {
  files: number;
  bytes: number;
  entries: number;
  entryBytes: number;
}

function contentTotals(entries: EntryTable, plan: TargetPlan): ContentTotals {
  let files = 0;
  let bytes = 0;
  let entryCount = 0;
  let entryBytes = 0;
  for (let index = 0; index < entries.count; index++) {
    const kind = entries.kind(index);
    if (kind === "directory") continue;
    entryCount++;
    entryBytes += entries.sizes[index]!;
    if (kind !== "file" || !entries.names.startsWith(index, CONTENT_PREFIX) || plan.keepsEntry(index)) continue;
    files++;
    bytes += entries.sizes[index]!;
  }
  return { files, bytes, entries: entryCount, entryBytes };
}
