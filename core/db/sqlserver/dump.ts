import type { Writable } from "node:stream";
import mssql from "mssql";
import { DumpOutput } from "../dump-output.js";
import type { DumpSummary } from "../types.js";
import { readCatalog } from "./catalog.js";
import { parseSqlServerConnectionString } from "./connection-string.js";
import { planScript, type TableDataPlan } from "./script.js";
import { writeScript } from "./script-writer.js";
import { openSqlServerPool, toSqlServerError } from "./session.js";

const SNAPSHOT_ON = 1;

/**
 * Dumps one database as a sqlcmd script. Everything is read in one transaction: SNAPSHOT
 * isolation when the database allows it (one consistent point in time), else READ COMMITTED.
 */
export async function dumpSqlServer(connectionString: string, out: Writable, options: { signal?: AbortSignal } = {}): Promise<DumpSummary> {
  const settings = parseSqlServerConnectionString(connectionString);
  const signal = options.signal;
  signal?.throwIfAborted();
  const pool = await openSqlServerPool(settings, "dump the database");
  const output = new DumpOutput(out);
  let transaction: mssql.Transaction | undefined;
  const stop = () => void pool.close().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  const stopOnOutputFailure = output.onFailure(stop);
  try {
    const [state] = (await pool.request().query("SELECT snapshot_isolation_state FROM sys.databases WHERE database_id = DB_ID()")).recordset as Array<{ snapshot_isolation_state: number }>;
    const snapshot = state?.snapshot_isolation_state === SNAPSHOT_ON;
    const warnings: string[] = [];
    if (!snapshot) {
      warnings.push(
        `Database ${settings.database} does not allow SNAPSHOT isolation, so the dump is read at READ COMMITTED: rows changed while it runs may be inconsistent across tables. ` +
          `Run ALTER DATABASE [${settings.database}] SET ALLOW_SNAPSHOT_ISOLATION ON for consistent dumps.`,
      );
    }
    transaction = new mssql.Transaction(pool);
    await transaction.begin(snapshot ? mssql.ISOLATION_LEVEL.SNAPSHOT : mssql.ISOLATION_LEVEL.READ_COMMITTED);
    const bound = transaction;
    const catalog = await readCatalog(async (sql) => (await new mssql.Request(bound).query(sql)).recordset);
    const plan = planScript(catalog);
    warnings.push(...plan.warnings);
    const consistency = snapshot ? "SNAPSHOT isolation transaction" : "READ COMMITTED transaction (snapshot isolation not allowed by the database)";
    const tables = await writeScript(
      plan,
      { database: catalog.database.name, productVersion: catalog.database.product_version, consistency },
      (table) => streamRows(bound, table, signal),
      (text) => output.write(text),
    );
    await transaction.commit();
    transaction = undefined;
    await output.end();
    return {
      engine: "sqlserver",
      serverVersion: catalog.database.product_version,
      database: catalog.database.name,
      consistency,
      tables,
      notCovered: [],
      warnings,
    };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    output.throwIfFailed();
    throw toSqlServerError(error, settings, "dump the database");
  } finally {
    signal?.removeEventListener("abort", stop);
    stopOnOutputFailure();
    await transaction?.rollback().catch(() => {});
    await pool.close().catch(() => {});
  }
}

/**
 * Yields the rows of one table, pausing the request while the consumer is behind so only a
 * bounded number of rows is held in memory.
 */
async function* streamRows(transaction: mssql.Transaction, table: TableDataPlan, signal: AbortSignal | undefined): AsyncGenerator<readonly unknown[]> {
  const request = new mssql.Request(transaction);
  request.stream = true;
  request.arrayRowMode = true;
  const queue: unknown[][] = [];
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  request.on("row", (row: unknown[]) => {
    queue.push(row);
    if (queue.length >= 500) request.pause();
    notify();
  });
  request.on("error", (error: unknown) => {
    failure ??= error;
    notify();
  });
  request.on("done", () => {
    finished = true;
    notify();
  });
  void request.query(table.selectSql);
  while (true) {
    signal?.throwIfAborted();
    if (failure !== undefined) throw failure;
    const row = queue.shift();
    if (row !== undefined) {
      if (queue.length < 100) request.resume();
      yield row;
      continue;
    }
    if (finished) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}
