import { createReadStream } from "node:fs";
import { engineFor } from "../db/index.js";
import type { DatabaseEngine } from "../db/types.js";
import { AppBackupError } from "../errors.js";
import type { DatabaseRecord } from "../format/manifest.js";
import type { AppBackupOptions } from "../options.js";

/** One database of the backup and where it goes. */
export interface DatabaseRestorePlan {
  record: DatabaseRecord;
  /** Secret: the target's resolved connection string. */
  connectionString: string;
  engine: DatabaseEngine;
  /** Host/port/database, without credentials. */
  target: string;
}

/** What happened to one database of the backup. */
export interface DatabaseOutcome {
  connectionStringName: string;
  databaseType: string;
  engine: string;
  target?: string;
  tables: number;
  rows: number;
  status: "restored" | "failed" | "not restored" | "ignored" | "would restore";
  error?: string;
  /** What the engine's load leaves behind if it fails midway. */
  atomicity?: string;
}

/**
 * Each database of the backup goes into the target's database with the same
 * connection-string name. Everything that can be known without touching a
 * database is checked here, before anything changes.
 */
export async function planDatabaseRestore(records: DatabaseRecord[], target: AppBackupOptions, ignore: boolean): Promise<DatabaseRestorePlan[]> {
  if (ignore || records.length === 0) return [];
  const missing = records.filter((r) => !target.app.connectionStrings[r.connectionStringName]);
  if (missing.length) {
    throw new AppBackupError(
      "USAGE",
      `The backup holds database${missing.length > 1 ? "s" : ""} ${missing.map((r) => r.connectionStringName).join(", ")}, but the target app ${target.app.name} has no connection string of ${missing.length > 1 ? "those names" : "that name"}; nothing was changed.`,
      `Add a connection string named ${missing[0]!.connectionStringName} to ${target.configPath ?? "the target's configuration"} pointing at the database to restore into, or pass --ignore-databases to restore the files only.`,
    );
  }
  const plans: DatabaseRestorePlan[] = [];
  for (const record of records) {
    const connectionString = target.app.connectionStrings[record.connectionStringName]!.value;
    let engine: DatabaseEngine;
    try {
      engine = await engineFor(record.databaseType);
    } catch (error) {
      throw new AppBackupError(
        "DATABASE",
        `Databases of type ${record.databaseType} (${record.connectionStringName}) cannot be restored by this installation: ${(error as Error).message}; nothing was changed.`,
        "Pass --ignore-databases to restore the files only.",
      );
    }
    let described: string;
    try {
      described = engine.describe(connectionString);
    } catch (error) {
      throw new AppBackupError(
        "CONFIG_INVALID",
        `The target's connection string ${record.connectionStringName} is not a valid ${record.databaseType} connection string: ${error instanceof AppBackupError ? error.message : (error as Error).message}; nothing was changed.`,
        error instanceof AppBackupError ? error.hint : undefined,
      );
    }
    plans.push({ record, connectionString, engine, target: described });
  }
  return plans;
}

export function outcomeOf(record: DatabaseRecord, status: DatabaseOutcome["status"], target?: string): DatabaseOutcome {
  return {
    connectionStringName: record.connectionStringName,
    databaseType: record.databaseType,
    engine: record.engine,
    target,
    tables: record.tables.length,
    rows: record.tables.reduce((sum, t) => sum + t.rows, 0),
    status,
  };
}

/**
 * Loads the checked dumps one after another. Stops at the first failure: the
 * outcomes say which databases were restored before it, and the failure's
 * message says what the engine leaves behind.
 */
export async function restoreDatabases(
  plans: DatabaseRestorePlan[],
  dumps: Map<string, string>,
  onRestored: (outcome: DatabaseOutcome) => Promise<void>,
): Promise<{ outcomes: DatabaseOutcome[]; failure?: AppBackupError }> {
  const outcomes = plans.map((p) => outcomeOf(p.record, "not restored", p.target));
  for (const [index, plan] of plans.entries()) {
    const outcome = outcomes[index]!;
    try {
      const summary = await plan.engine.load(plan.connectionString, createReadStream(dumps.get(plan.record.entry)!, { highWaterMark: 1024 * 1024 }));
      outcome.status = "restored";
      outcome.atomicity = summary.atomicity;
      await onRestored(outcome);
    } catch (error) {
      const reason = error instanceof AppBackupError ? error.message : (error as Error).message;
      outcome.status = "failed";
      outcome.error = reason;
      const atomicity = (error as { atomicity?: string }).atomicity ?? plan.engine.loadAtomicity;
      if (atomicity) outcome.atomicity = atomicity;
      const before = outcomes.filter((o) => o.status === "restored").map((o) => o.connectionStringName);
      return {
        outcomes,
        failure: new AppBackupError(
          "DATABASE",
          `Restoring database ${plan.record.connectionStringName} into ${plan.target} failed: ${reason}\n` +
            (atomicity ? `What a failed load leaves behind on this engine: ${atomicity}\n` : "") +
            `The files were not restored (the home is as it was)${restoredBefore(before)}${notAttempted(plans.slice(index + 1).map((p) => p.record.connectionStringName))}.`,
          error instanceof AppBackupError ? error.hint : undefined,
          { cause: error },
        ),
      };
    }
  }
  return { outcomes };
}

function restoredBefore(names: string[]): string {
  if (names.length === 0) return "";
  return names.length === 1
    ? `; database ${names[0]} had already been restored and stays restored`
    : `; databases ${names.join(", ")} had already been restored and stay restored`;
}

function notAttempted(names: string[]): string {
  if (names.length === 0) return "";
  return names.length === 1 ? `; ${names[0]} was not attempted` : `; ${names.join(", ")} were not attempted`;
}
