import type { Writable } from "node:stream";
import type { FieldPacket } from "mysql2";
import { DumpOutput } from "../dump-output.js";
import type { DumpSummary, TableSummary } from "../types.js";
import { parseMysqlConnectionString, type MysqlConnectionSettings } from "./connection-string.js";
import { toMysqlError } from "./errors.js";
import { readSelectCoverage, selectCoverageWarning } from "./grants.js";
import { DUMP_COMPLETE_MARKER, dumpFooter, dumpHeader, storedObjectBlock } from "./dump-format.js";
import { InsertStatementBuilder, literalKindFor } from "./insert-encoder.js";
import {
  countEvents,
  listTables,
  readRoutines,
  readSequenceState,
  readTableDefinition,
  readTriggers,
  readViews,
  type StoredObjectDefinition,
  type TableDefinition,
} from "./schema.js";
import { openMysqlSession, quoteIdentifier, type MysqlSession } from "./session.js";

/**
 * Dumps one database as plain SQL, inside one REPEATABLE READ transaction started WITH
 * CONSISTENT SNAPSHOT (as `mariadb-dump --single-transaction`), so InnoDB tables are read as
 * of one instant while the application keeps writing. On failure `out` is left unended.
 */
export async function dumpMysql(connectionString: string, out: Writable, options: { signal?: AbortSignal } = {}): Promise<DumpSummary> {
  const settings = parseMysqlConnectionString(connectionString);
  const signal = options.signal;
  signal?.throwIfAborted();
  const session = await openMysqlSession(settings, { action: "dump the database" });
  const output = new DumpOutput(out);
  const stopOnAbort = () => session.destroy();
  signal?.addEventListener("abort", stopOnAbort, { once: true });
  const stopOnOutputFailure = output.onFailure(() => session.destroy());
  try {
    return await writeDump(session, settings, output, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    output.throwIfFailed();
    throw toMysqlError(error, settings, "dump the database");
  } finally {
    signal?.removeEventListener("abort", stopOnAbort);
    stopOnOutputFailure();
    session.destroy();
  }
}

async function writeDump(session: MysqlSession, settings: MysqlConnectionSettings, output: DumpOutput, signal: AbortSignal | undefined): Promise<DumpSummary> {
  const [versionRow] = await session.query<{ version: string }>("SELECT VERSION() AS version");
  const serverVersion = versionRow!.version;
  const engine = /mariadb/i.test(serverVersion) ? "mariadb" : "mysql";
  // SHOW CREATE output depends on sql_mode (ANSI_QUOTES and friends); '' gives the canonical form.
  await session.query("SET SESSION sql_mode = '', SESSION time_zone = '+00:00', SESSION sql_quote_show_create = 1");
  // Read before the snapshot starts: a failed probe then cannot touch the dump's transaction.
  const selectCoverage = await readSelectCoverage(session, settings.database);
  await session.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  let consistency = "REPEATABLE READ transaction WITH CONSISTENT SNAPSHOT, READ ONLY";
  try {
    await session.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  } catch (error) {
    if ((error as { code?: string }).code !== "ER_PARSE_ERROR") throw error;
    await session.query("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    consistency = "REPEATABLE READ transaction WITH CONSISTENT SNAPSHOT";
  }

  const warnings: string[] = [];
  const { tables: tableRows, views: viewNames } = await listTables(session);
  const coverageWarning = selectCoverageWarning(selectCoverage, settings.user, settings.database, tableRows.length);
  if (coverageWarning) warnings.push(coverageWarning);
  const notCovered = tableRows
    .filter((row) => row.TABLE_TYPE !== "SEQUENCE" && (row.ENGINE ?? "").toLowerCase() !== "innodb")
    .map((row) => `${settings.database}.${row.TABLE_NAME}`);
  if (notCovered.length > 0) {
    const engines = [...new Set(tableRows.filter((row) => notCovered.includes(`${settings.database}.${row.TABLE_NAME}`)).map((row) => row.ENGINE ?? "unknown"))];
    warnings.push(
      `${notCovered.length} table(s) use a non-transactional engine (${engines.join(", ")}) and are not covered by the consistent snapshot: ${notCovered.join(", ")}. ` +
        "Writes made while the dump runs may appear in them; convert them to InnoDB for consistent backups.",
    );
  }

  await output.write(dumpHeader({ engine, serverVersion, database: settings.database, consistency }));

  const tables: TableSummary[] = [];
  for (const row of tableRows) {
    signal?.throwIfAborted();
    const table = await readTableDefinition(session, row);
    if (table.systemVersioned) {
      warnings.push(`Table ${settings.database}.${table.name} is system-versioned; only its current rows are dumped, not its history.`);
    }
    await output.write(tableBlock(table));
    if (table.kind === "sequence") {
      await output.write(await readSequenceState(session, table.name));
      continue;
    }
    const rows = await streamRows(session, table, output);
    tables.push({ name: `${settings.database}.${table.name}`, rows });
  }

  signal?.throwIfAborted();
  const routines = await readRoutines(session);
  for (const name of routines.unreadable) {
    warnings.push(`The ${name} is not in the dump: user "${settings.user}" may not read its definition (grant SHOW_ROUTINE, or SELECT on mysql.proc).`);
  }
  for (const name of routines.unsupported) warnings.push(`The ${name} is not in the dump: app-backup dumps procedures and functions only.`);
  const views = await readViews(session, viewNames);
  const triggers = await readTriggers(session);
  const events = await countEvents(session);
  if (events > 0) warnings.push(`${events} event(s) of the database are not in the dump (events are not backed up); recreate them after a restore.`);
  await session.query("COMMIT");

  // Routines first (views may call functions), then views, then triggers (after all data, so loading does not fire them).
  const objects: StoredObjectDefinition[] = [...routines.routines, ...views, ...triggers];
  for (const object of objects) await output.write(storedObjectBlock(object));
  const totalRows = tables.reduce((sum, table) => sum + table.rows, 0);
  await output.write(dumpFooter());
  await output.write(`${DUMP_COMPLETE_MARKER} ${tables.length} tables, ${totalRows} rows, ${objects.length} views/routines/triggers\n`);
  await output.end();

  return { engine, serverVersion, database: settings.database, consistency, tables, notCovered, warnings };
}

function tableBlock(table: TableDefinition): string {
  const label = table.kind === "sequence" ? "Sequence" : "Table";
  return `\n--\n-- ${label} ${quoteIdentifier(table.name)}\n--\n\nDROP TABLE IF EXISTS ${quoteIdentifier(table.name)};\n${table.createStatement};\n`;
}

/** What the direct row reader hands mysql2 instead of a parsed row. */
const ENCODED_ROW = Symbol("row encoded");

/**
 * Streams the table's rows into multi-row INSERTs. Each row packet is encoded straight into
 * the statement buffer: the query's row parser is swapped for one that reads the packet's
 * length-coded values in place (no Buffer or string per value). Should a mysql2 version not
 * use the swapped parser, rows still arrive as raw buffers (typeCast off) and take the same
 * encoder. When the destination is full, the connection stops reading from the socket, so
 * memory stays flat whatever the table size.
 */
function streamRows(session: MysqlSession, table: TableDefinition, output: DumpOutput): Promise<number> {
  const columns = table.insertColumns.map(quoteIdentifier).join(",");
  const sql = `SELECT ${table.selectExpressions.join(",")} FROM ${quoteIdentifier(table.name)}`;
  const prefix = `INSERT INTO ${quoteIdentifier(table.name)} (${columns}) VALUES `;
  const connection = session.connection;
  return new Promise<number>((resolve, reject) => {
    let builder: InsertStatementBuilder | undefined;
    let columnCount = 0;
    let rows = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      stopListening();
      reject(error);
    };
    const stopListening = output.onFailure(fail);
    const send = (statement: Buffer) => {
      if (output.writeNow(statement)) return;
      connection.pause();
      output.drained().then(() => connection.resume(), fail);
    };
    const query = connection.query({ sql, typeCast: false, rowsAsArray: true });
    const directReader = {
      next(packet: { buffer: Buffer; offset: number }) {
        rows++;
        const statement = builder!.addPacketRow(packet.buffer, packet.offset, columnCount);
        if (statement) send(statement);
        return ENCODED_ROW;
      },
    };
    Object.defineProperty(query, "_rowParser", {
      configurable: true,
      get: () => (builder ? directReader : null),
      set: () => {},
    });
    query.on("fields", (fields: FieldPacket[]) => {
      columnCount = fields.length;
      builder = new InsertStatementBuilder(prefix, fields.map(literalKindFor));
    });
    query.on("result", (row: unknown) => {
      if (row === ENCODED_ROW) return;
      rows++;
      const statement = builder!.addRow(row as Array<Buffer | null>);
      if (statement) send(statement);
    });
    query.on("error", fail);
    query.on("end", () => {
      if (settled) return;
      const statement = builder?.finish();
      settled = true;
      stopListening();
      if (!statement) {
        resolve(rows);
        return;
      }
      output.write(statement).then(() => resolve(rows), reject);
    });
  });
}
