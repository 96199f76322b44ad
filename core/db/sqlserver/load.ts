import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import mssql from "mssql";
import { AppBackupError } from "../../errors.js";
import type { LoadSummary } from "../types.js";
import { GoBatchSplitter, type ScriptBatch } from "./batch-splitter.js";
import { CATALOG_QUERIES } from "./catalog.js";
import { describeSqlServerSettings, parseSqlServerConnectionString, type SqlServerConnectionSettings } from "./connection-string.js";
import { scriptDropAll } from "./script.js";
import { DUMP_COMPLETE_MARKER } from "./script-format.js";
import { openSqlServerPool, toSqlServerError } from "./session.js";

/**
 * The load runs in one transaction with XACT_ABORT ON: the target's tables, views, routines,
 * triggers and types are dropped, then the script runs batch by batch, and only a complete
 * script (ending with its marker) is committed. SQL Server's DDL is transactional, so any
 * failure (bad batch, truncated file, lost connection, abort) rolls everything back.
 */
export const SQLSERVER_LOAD_ATOMICITY =
  "The whole load (dropping the old objects and running every batch) is one transaction; a failure at any point rolls it back and leaves the target database unchanged.";

export async function loadSqlServer(connectionString: string, sql: Readable, options: { signal?: AbortSignal } = {}): Promise<LoadSummary> {
  const settings = parseSqlServerConnectionString(connectionString);
  const signal = options.signal;
  signal?.throwIfAborted();
  const pool = await openSqlServerPool(settings, "restore the database");
  const stop = () => void pool.close().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  const transaction = new mssql.Transaction(pool);
  let begun = false;
  try {
    await transaction.begin(mssql.ISOLATION_LEVEL.READ_COMMITTED);
    begun = true;
    const run = async (text: string) => (await new mssql.Request(transaction).batch(text)).recordset;
    await run("SET XACT_ABORT ON;");
    const query = async <Row>(text: string) => (await new mssql.Request(transaction).query(text)).recordset as Row[];
    const dropAll = scriptDropAll({
      tables: await query(CATALOG_QUERIES.tables),
      foreignKeys: await query(CATALOG_QUERIES.foreignKeys),
      modules: await query(CATALOG_QUERIES.modules),
      types: await query(CATALOG_QUERIES.types),
    });
    for (const text of dropAll) await runBatch(run, { text, line: 0, repeat: 1, terminated: true }, "dropping the target's objects");

    const splitter = new GoBatchSplitter();
    const decoder = new StringDecoder("utf8");
    let tables = 0;
    const runAll = async (batches: ScriptBatch[]) => {
      for (const scriptBatch of batches) {
        signal?.throwIfAborted();
        if (!scriptBatch.terminated) throw new ScriptRejected(`the script ends inside a batch (line ${scriptBatch.line}, no GO after it): it is truncated.`);
        if (/^\s*CREATE\s+TABLE\b/i.test(scriptBatch.text)) tables++;
        await runBatch(run, scriptBatch, "running the script");
      }
    };
    for await (const chunk of sql) await runAll(splitter.push(typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer)));
    await runAll(splitter.push(decoder.end()));
    const ending = splitter.end();
    await runAll(ending.batches);
    if (!ending.trailingText.includes(DUMP_COMPLETE_MARKER)) {
      throw new ScriptRejected(`the script does not end with its "${DUMP_COMPLETE_MARKER}" line: it is truncated or was not written completely.`);
    }
    await transaction.commit();
    begun = false;
    return { database: settings.database, tables, atomicity: SQLSERVER_LOAD_ATOMICITY };
  } catch (error) {
    if (begun) await transaction.rollback().catch(() => {});
    if (signal?.aborted) throw signal.reason;
    throw explainFailure(error, settings);
  } finally {
    signal?.removeEventListener("abort", stop);
    await pool.close().catch(() => {});
  }
}

async function runBatch(run: (text: string) => Promise<unknown>, scriptBatch: ScriptBatch, stage: string): Promise<void> {
  for (let time = 0; time < scriptBatch.repeat; time++) {
    try {
      await run(scriptBatch.text);
    } catch (error) {
      throw new BatchFailed(scriptBatch, stage, error);
    }
  }
}

class ScriptRejected extends Error {}

class BatchFailed extends Error {
  constructor(
    readonly scriptBatch: ScriptBatch,
    readonly stage: string,
    readonly driverError: unknown,
  ) {
    super("batch failed");
  }
}

function explainFailure(error: unknown, settings: SqlServerConnectionSettings): AppBackupError {
  const target = describeSqlServerSettings(settings);
  if (error instanceof ScriptRejected) {
    return new AppBackupError("DATABASE", `Cannot restore ${target}: ${error.message} The target database is unchanged.`, "Restore from a complete dump made by app-backup.");
  }
  if (error instanceof BatchFailed) {
    const base = toSqlServerError(error.driverError, settings, "restore the database");
    const where = error.scriptBatch.line > 0 ? ` the batch at line ${error.scriptBatch.line} (${preview(error.scriptBatch.text)})` : ` ${preview(error.scriptBatch.text)}`;
    return new AppBackupError("DATABASE", `${base.message.replace(/\.$/, "")} —${where} failed while ${error.stage}. The transaction was rolled back; the target database is unchanged.`, base.hint, { cause: base });
  }
  const base = toSqlServerError(error, settings, "restore the database");
  return new AppBackupError("DATABASE", `${base.message} The target database is unchanged (the transaction was rolled back).`, base.hint, { cause: base });
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}
