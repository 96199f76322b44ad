import { AppBackupError } from "../errors.js";
import type { ConfigUpdate } from "./config-update.js";
import type { DatabaseOutcome } from "./databases.js";
import type { Recovery } from "./switch.js";
import type { TargetPlan } from "./target-plan.js";

export type RestoreStatus = "Succeeded" | "Failed" | "DryRun";

export interface RestoreResult {
  backup: string;
  /** Name of the app restored into. */
  app: string;
  home: string;
  status: RestoreStatus;
  dryRun: boolean;
  /**
   * Home-relative paths written (folders end with `/`): the first 1,000 in
   * walk order at most (PATH_LIST_LIMIT), so that a million-file restore does
   * not hold or print every path; `counts.written` is how many in all.
   */
  written: string[];
  /** Home-relative paths of the old home that are gone: the first 1,000 at most, as `written`; `counts.deleted` is how many in all. */
  deleted: string[];
  /** How many paths were written and deleted in all (the lists above hold the first of them). */
  counts: { written: number; deleted: number };
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

/** What every result of one restore says, whatever its outcome. */
export type ResultBase = Pick<RestoreResult, "backup" | "app" | "home" | "written" | "deleted" | "counts" | "keptByFilter" | "keptOther" | "recovered" | "warnings" | "startedAt">;

/** Databases the run was told to leave alone, listed in every result. */
type Ignored = DatabaseOutcome[];

export function resultBase(fields: Pick<RestoreResult, "backup" | "app" | "home" | "recovered" | "warnings" | "startedAt">, plan: TargetPlan): ResultBase {
  // In the order results have always listed their fields: reports print them as they come.
  return {
    backup: fields.backup,
    app: fields.app,
    home: fields.home,
    written: plan.written.paths,
    deleted: plan.deleted.paths,
    counts: { written: plan.written.count, deleted: plan.deleted.count },
    keptByFilter: plan.kept.filter((k) => k.reason === "filter").map((k) => k.path),
    keptOther: plan.kept.filter((k) => k.reason !== "filter").map((k) => ({ path: k.path, reason: k.reason })),
    recovered: fields.recovered,
    warnings: fields.warnings,
    startedAt: fields.startedAt,
  };
}

/** A dry run: what would be written and restored; nothing was changed. */
export function dryRunResult(base: ResultBase, totals: { files: number; bytes: number }, databases: DatabaseOutcome[], configUpdate: ConfigUpdate | undefined): RestoreResult {
  return finish({
    ...base,
    status: "DryRun",
    dryRun: true,
    files: totals.files,
    bytes: totals.bytes,
    databases,
    settingsRestored: configUpdate?.settings ?? [],
    connectionStringsRestored: configUpdate?.connectionStrings ?? [],
    parts: { files: false, databases: [], settings: false, connectionStrings: false },
  });
}

/** A restore stopped before the switch: the home is as it was; only databases already loaded changed. */
export function failedResult(base: ResultBase, error: unknown, databases: DatabaseOutcome[], ignored: Ignored): RestoreResult {
  return finish({
    ...base,
    status: "Failed",
    dryRun: false,
    written: [],
    deleted: [],
    counts: { written: 0, deleted: 0 },
    files: 0,
    bytes: 0,
    databases: [...databases, ...ignored],
    settingsRestored: [],
    connectionStringsRestored: [],
    parts: { files: false, databases: databases.filter((d) => d.status === "restored").map((d) => d.connectionStringName), settings: false, connectionStrings: false },
    error: describeError(error),
  });
}

/** A switched home; failed only when the configuration file could not be updated afterwards. */
export function switchedResult(
  base: ResultBase,
  staged: { files: number; bytes: number },
  databases: DatabaseOutcome[],
  ignored: Ignored,
  configUpdate: ConfigUpdate | undefined,
  configFailure: unknown,
): RestoreResult {
  const settingsWritten = configFailure === undefined && (configUpdate?.settings.length ?? 0) > 0;
  const connectionStringsWritten = configFailure === undefined && (configUpdate?.connectionStrings.length ?? 0) > 0;
  return finish({
    ...base,
    status: configFailure === undefined ? "Succeeded" : "Failed",
    dryRun: false,
    files: staged.files,
    bytes: staged.bytes,
    databases: [...databases, ...ignored],
    settingsRestored: settingsWritten ? configUpdate!.settings : [],
    connectionStringsRestored: connectionStringsWritten ? configUpdate!.connectionStrings : [],
    parts: { files: true, databases: databases.map((d) => d.connectionStringName), settings: settingsWritten, connectionStrings: connectionStringsWritten },
    error:
      configFailure === undefined
        ? undefined
        : describeError(new AppBackupError("RESTORE", `The files and databases were restored, but ${configUpdate!.configPath} could not be updated: ${(configFailure as Error).message}`)),
  });
}

function finish(result: Omit<RestoreResult, "finishedAt" | "durationMs">): RestoreResult {
  const finishedAt = new Date();
  return { ...result, finishedAt, durationMs: finishedAt.getTime() - result.startedAt.getTime() };
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof AppBackupError) return { code: error.code, message: error.describe() };
  return { code: "RESTORE", message: (error as Error)?.message ?? String(error) };
}
