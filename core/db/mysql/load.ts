import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { AppBackupError } from "../../errors.js";
import type { LoadSummary } from "../types.js";
import { describeMysqlSettings, parseMysqlConnectionString, type MysqlConnectionSettings } from "./connection-string.js";
import { DUMP_COMPLETE_MARKER } from "./dump-format.js";
import { redactPassword } from "../redact-password.js";
import { toMysqlError } from "./errors.js";
import { openMysqlSession, quoteIdentifier, type MysqlSession } from "./session.js";
import { readTriggers } from "./schema.js";
import { statementRole } from "./statement-roles.js";
import { StatementSplitter, type SplitStatement } from "./statement-splitter.js";

/**
 * Loading replaces the target database's content without ever leaving it half-loaded:
 *
 * 1. The dump's tables and rows are loaded into a scratch database (`ab_restore_<random>`)
 *    created next to the target with the target's character set and collation.
 * 2. The dump's views, routines and triggers are created there too, as a rehearsal that
 *    catches syntax, privilege and binary-log errors; the rehearsal triggers are then dropped
 *    (MySQL cannot move a table with triggers to another database).
 * 3. The swap: the target's triggers are dropped (same reason; their definitions are kept and
 *    they are recreated if the swap fails), then one `RENAME TABLE` moves the target's tables
 *    into a second scratch database (`ab_restore_<random>_old`; moving them out, rather than
 *    renaming them in place, keeps their foreign key names from clashing with the new tables'),
 *    renames the target's views aside, and moves the scratch tables into the target.
 *    A multi-table RENAME is atomic: all renames happen or none.
 * 4. The old tables (with their database), the set-aside views and the target's routines are
 *    dropped, and the dump's views, routines and triggers are created in the target; then the
 *    scratch database is dropped.
 *
 * A failure in steps 1–3 (bad or truncated dump, server error, lost connection, abort)
 * leaves the target as it was; the scratch databases are dropped (if the connection is gone,
 * the error names them so they can be dropped by hand). The one exception is the connection
 * dying between dropping the target's triggers and the RENAME: the triggers are then missing.
 * A failure in step 4 leaves the target with the dump's tables and data but possibly without
 * some of the dump's views, routines or triggers (the error names the one that failed).
 * Events are not touched. Writes the application makes to the target while the load runs
 * are lost with the old tables.
 */
export const MYSQL_LOAD_ATOMICITY =
  "Tables and rows are loaded into a scratch database on the same server, views/routines/triggers are rehearsed there, " +
  "then one atomic RENAME TABLE swaps the tables in. A failure before the swap leaves the target database unchanged. " +
  "After the swap, the old tables, views and routines are dropped and the dump's views, routines and triggers recreated; " +
  "a failure in that last step leaves the new tables and data in place with some views, routines or triggers missing (named in the error).";

const SCRATCH_PREFIX = "ab_restore_";
const LOCK_WAIT_SECONDS = 120;

type DeferredStatement = SplitStatement & { role: "session" | "object" };

export async function loadMysql(connectionString: string, sql: Readable, options: { signal?: AbortSignal } = {}): Promise<LoadSummary> {
  const settings = parseMysqlConnectionString(connectionString);
  const signal = options.signal;
  signal?.throwIfAborted();
  const session = await openMysqlSession(settings, { action: "restore the database" });
  const stopOnAbort = () => session.destroy();
  signal?.addEventListener("abort", stopOnAbort, { once: true });
  const scratch = SCRATCH_PREFIX + randomBytes(6).toString("hex");
  const retired = `${scratch}_old`;
  const created: string[] = [];
  let swapped = false;
  try {
    const target = settings.database;
    const [defaults] = await session.query<{ cs: string; co: string }>(
      "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [target],
    );
    for (const database of [scratch, retired]) {
      await createScratchDatabase(session, settings, database, defaults!.cs, defaults!.co);
      created.push(database);
    }
    await session.query(`USE ${quoteIdentifier(scratch)}`);
    await session.query(
      `SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0, SESSION unique_checks = 0, SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`,
    );

    const deferred = await loadTables(session, sql, signal);
    const tables = await baseTablesOf(session, scratch);

    signal?.throwIfAborted();
    await runDeferred(session, deferred, signal, "rehearsing in the scratch database");
    for (const trigger of await session.query<{ TRIGGER_NAME: string }>("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?", [scratch])) {
      await session.query(`DROP TRIGGER ${quoteIdentifier(scratch)}.${quoteIdentifier(trigger.TRIGGER_NAME)}`);
    }

    signal?.throwIfAborted();
    await session.query(`USE ${quoteIdentifier(target)}`);
    const asideViews = await swapTables(session, target, scratch, retired, tables);
    swapped = true;

    await session.query(`DROP DATABASE ${quoteIdentifier(retired)}`);
    created.splice(created.indexOf(retired), 1);
    if (asideViews.length > 0) await session.query(`DROP VIEW IF EXISTS ${asideViews.map((name) => `${quoteIdentifier(target)}.${quoteIdentifier(name)}`).join(", ")}`);
    await dropRoutines(session, target);
    await runDeferred(session, deferred, undefined, "creating in the target database");
    await session.query(`DROP DATABASE ${quoteIdentifier(scratch)}`);
    created.length = 0;
    return { database: target, tables: tables.length, atomicity: MYSQL_LOAD_ATOMICITY };
  } catch (error) {
    const cleanupNote = created.length > 0 ? await dropScratch(session, settings, created) : "";
    if (signal?.aborted && !swapped) throw signal.reason;
    if (error instanceof AppBackupError) throw error;
    throw explainLoadFailure(error, settings, swapped, cleanupNote);
  } finally {
    signal?.removeEventListener("abort", stopOnAbort);
    session.destroy();
  }
}

async function createScratchDatabase(session: MysqlSession, settings: MysqlConnectionSettings, scratch: string, charset: string, collation: string): Promise<void> {
  try {
    await session.query(`CREATE DATABASE ${quoteIdentifier(scratch)} CHARACTER SET ${charset} COLLATE ${collation}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ER_DBACCESS_DENIED_ERROR" || code === "ER_ACCESS_DENIED_ERROR" || code === "ER_SPECIFIC_ACCESS_DENIED_ERROR") {
      throw new AppBackupError(
        "DATABASE",
        `Cannot restore ${describeMysqlSettings(settings)}: user "${settings.user}" may not create the scratch database the restore loads into before swapping it in. The target database is unchanged.`,
        `Grant it on scratch databases, e.g. GRANT ALL PRIVILEGES ON \`${SCRATCH_PREFIX.replace(/_/g, "\\_")}%\`.* TO '${settings.user}'@'%'; or restore with an administrator account.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Runs the table statements as they stream in; returns the rest for later, in order. */
async function loadTables(session: MysqlSession, sql: Readable, signal: AbortSignal | undefined): Promise<DeferredStatement[]> {
  const splitter = new StatementSplitter();
  const decoder = new StringDecoder("utf8");
  const deferred: DeferredStatement[] = [];
  const run = async (statements: SplitStatement[]) => {
    for (const statement of statements) {
      signal?.throwIfAborted();
      const verdict = statementRole(statement.text);
      if ("refused" in verdict) {
        throw new DumpRejected(`the statement at line ${statement.line} (${preview(statement.text)}) is refused: ${verdict.refused}.`);
      }
      if (verdict.role !== "object") await runStatement(session, statement, "loading tables into the scratch database");
      if (verdict.role !== "table") deferred.push({ ...statement, role: verdict.role });
    }
  };
  for await (const chunk of sql) {
    await run(splitter.push(typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer)));
  }
  const last = splitter.push(decoder.end());
  const ending = splitter.end();
  await run([...last, ...ending.statements]);
  if (ending.unterminated !== undefined) {
    throw new DumpRejected(`the dump ends inside ${ending.unterminated}: it is truncated.`);
  }
  if (!ending.trailingText.includes(DUMP_COMPLETE_MARKER)) {
    throw new DumpRejected(`the dump does not end with its "${DUMP_COMPLETE_MARKER}" line: it is truncated or was not written completely.`);
  }
  return deferred;
}

async function runDeferred(session: MysqlSession, statements: readonly DeferredStatement[], signal: AbortSignal | undefined, stage: string): Promise<void> {
  for (const statement of statements) {
    signal?.throwIfAborted();
    await runStatement(session, statement, stage);
  }
}

async function runStatement(session: MysqlSession, statement: SplitStatement, stage: string): Promise<void> {
  try {
    await session.query(statement.text);
  } catch (error) {
    throw new StatementFailed(statement, stage, error);
  }
}

async function baseTablesOf(session: MysqlSession, database: string): Promise<string[]> {
  const rows = await session.query<{ TABLE_NAME: string }>(
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'VIEW' ORDER BY TABLE_NAME",
    [database],
  );
  return rows.map((row) => row.TABLE_NAME);
}

/**
 * The atomic step. One RENAME TABLE moves the target's tables into `retired`, renames its
 * views aside (views cannot change database) and moves the scratch tables in. Returns the
 * set-aside view names. Tables with triggers cannot change database, so the target's
 * triggers are dropped first and put back if the RENAME fails.
 */
async function swapTables(session: MysqlSession, target: string, scratch: string, retired: string, scratchTables: readonly string[]): Promise<string[]> {
  const existing = await session.query<{ TABLE_NAME: string; TABLE_TYPE: string }>(
    "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
    [target],
  );
  const token = randomBytes(4).toString("hex");
  const asideViews: string[] = [];
  const renames: string[] = [];
  const qualified = (database: string, name: string) => `${quoteIdentifier(database)}.${quoteIdentifier(name)}`;
  for (const row of existing) {
    if (row.TABLE_TYPE === "VIEW") {
      const asideName = `__ab_old_${token}_${asideViews.length}`;
      asideViews.push(asideName);
      renames.push(`${qualified(target, row.TABLE_NAME)} TO ${qualified(target, asideName)}`);
    } else {
      renames.push(`${qualified(target, row.TABLE_NAME)} TO ${qualified(retired, row.TABLE_NAME)}`);
    }
  }
  for (const table of scratchTables) renames.push(`${qualified(scratch, table)} TO ${qualified(target, table)}`);
  if (renames.length === 0) return asideViews;

  const oldTriggers = await readTriggers(session, { keepDefiner: true });
  for (const trigger of oldTriggers) await session.query(`DROP TRIGGER ${qualified(target, trigger.name)}`);
  try {
    await session.query(`RENAME TABLE ${renames.join(", ")}`);
  } catch (error) {
    for (const trigger of oldTriggers) {
      await session.query("SET @saved_sql_mode = @@sql_mode, @saved_cs_client = @@character_set_client, @saved_col_connection = @@collation_connection");
      await session.query(`SET sql_mode = ?, character_set_client = ${trigger.characterSetClient}, collation_connection = ${trigger.collationConnection}`, [trigger.sqlMode ?? ""]);
      await session.query(trigger.createStatement);
      await session.query("SET sql_mode = @saved_sql_mode, character_set_client = @saved_cs_client, collation_connection = @saved_col_connection");
    }
    throw error;
  }
  return asideViews;
}

async function dropRoutines(session: MysqlSession, target: string): Promise<void> {
  const routines = await session.query<{ ROUTINE_NAME: string; ROUTINE_TYPE: string }>(
    "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')",
    [target],
  );
  for (const routine of routines) {
    await session.query(`DROP ${routine.ROUTINE_TYPE} IF EXISTS ${quoteIdentifier(target)}.${quoteIdentifier(routine.ROUTINE_NAME)}`);
  }
}

/** Best-effort removal of the scratch databases after a failure; returns a note for the error. */
async function dropScratch(session: MysqlSession, settings: MysqlConnectionSettings, databases: readonly string[]): Promise<string> {
  const dropAll = async (on: MysqlSession) => {
    for (const database of databases) await on.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
  };
  try {
    await dropAll(session);
    return "";
  } catch {
    try {
      const fresh = await openMysqlSession(settings, { database: null, action: "drop the scratch database" });
      try {
        await dropAll(fresh);
        return "";
      } finally {
        fresh.destroy();
      }
    } catch {
      const names = databases.map((database) => `\`${database}\``).join(", ");
      return ` The scratch databases ${names} could not be dropped; drop them by hand (DROP DATABASE).`;
    }
  }
}

class DumpRejected extends Error {}

class StatementFailed extends Error {
  constructor(
    readonly statement: SplitStatement,
    readonly stage: string,
    readonly driverError: unknown,
  ) {
    super("statement failed");
  }
}

function explainLoadFailure(error: unknown, settings: MysqlConnectionSettings, swapped: boolean, cleanupNote: string): AppBackupError {
  const target = describeMysqlSettings(settings);
  const outcome = swapped
    ? "The dump's tables and data are in place, but some of its views, routines or triggers may be missing."
    : "The target database is unchanged.";
  if (error instanceof DumpRejected) {
    return new AppBackupError("DATABASE", `Cannot restore ${target}: ${error.message} ${outcome}${cleanupNote}`, "Restore from a complete dump made by app-backup.");
  }
  if (error instanceof StatementFailed) {
    const driverError = error.driverError as { code?: string; sqlMessage?: string; message?: string };
    const serverText = redactPassword(driverError.sqlMessage ?? driverError.message ?? String(driverError), settings.password);
    const lost = /PROTOCOL_CONNECTION_LOST|ECONNRESET|ER_CONNECTION_KILLED|EPIPE/.test(driverError.code ?? "");
    if (lost) {
      const base = toMysqlError(driverError, settings, "restore the database");
      return new AppBackupError("DATABASE", `${base.message} ${outcome}${cleanupNote}`, base.hint, { cause: base });
    }
    return new AppBackupError(
      "DATABASE",
      `Cannot restore ${target}: the statement at line ${error.statement.line} of the dump (${preview(error.statement.text)}) failed while ${error.stage}: ${serverText}${driverError.code ? ` (${driverError.code})` : ""}. ${outcome}${cleanupNote}`,
      error.stage.startsWith("rehearsing") || !swapped ? "Fix the cause on the target server (privileges, server version, max_allowed_packet) and restore again." : "Restore again, or create the missing objects by hand from the dump.",
    );
  }
  const base = toMysqlError(error, settings, "restore the database");
  return new AppBackupError("DATABASE", `${base.message} ${outcome}${cleanupNote}`, base.hint, { cause: base.cause });
}

function preview(statement: string): string {
  const oneLine = statement.replace(/\s+/g, " ");
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}
