import type { Writable } from "node:stream";
import { AppBackupError } from "../../errors.js";
import type { DumpSummary, TableSummary } from "../types.js";
import { readCatalog, type Catalog } from "./catalog.js";
import { parsePostgresConnectionString } from "./connection-string.js";
import { planObjects } from "./ddl-objects.js";
import { planPostData, planRefreshes } from "./ddl-post-data.js";
import { CopyOutStream } from "./copy-out.js";
import { planRelations, type DataTable, type SequenceValue } from "./ddl-relations.js";
import { DUMP_HEADER_LINE, DUMP_TRAILER_LINE } from "./dump-format.js";
import { addCatalogDependencies, orderSection, settleSections } from "./dump-order.js";
import { DumpPlan, type DumpItem } from "./dump-plan.js";
import { DumpOutput, OutputFailure } from "./output.js";
import { PostgresSession } from "./session.js";
import { commentLine, literal } from "./sql-text.js";

export const CONSISTENCY = "REPEATABLE READ READ ONLY transaction";
const MINIMUM_SERVER_VERSION = 120000;
/** Rows read ahead from the server while the output is busy: enough to keep both sides streaming, small enough to stay flat. */
const COPY_READ_AHEAD_BYTES = 1024 * 1024;

/**
 * Session settings for reading: names come out schema-qualified (empty search_path), and values in
 * forms that read back identically whatever the loading server's settings (ISO dates, postgres
 * intervals, exact floats, the C locale's money format).
 */
const READ_SETTINGS = [
  ["search_path", ""], ["DateStyle", "ISO, YMD"], ["IntervalStyle", "postgres"], ["extra_float_digits", "3"],
  ["lc_monetary", "C"], ["xmloption", "content"], ["bytea_output", "hex"], ["statement_timeout", "0"],
  ["lock_timeout", "0"], ["idle_in_transaction_session_timeout", "0"], ["row_security", "off"],
];

/** The same, for whoever replays the dump (our loader or psql). */
const REPLAY_SETTINGS = `SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
SET datestyle = 'ISO, YMD';
SET intervalstyle = postgres;
SET lc_monetary = 'C';
SET default_tablespace = '';
SET default_table_access_method = heap;
`;

/**
 * Writes a plain SQL dump of the whole database from one REPEATABLE READ READ ONLY transaction:
 * schema objects, then each table's rows as `COPY ... FROM stdin;` blocks streamed straight from
 * the server, then indexes, constraints and triggers. `out` is ended only after a complete dump.
 */
export async function dumpPostgres(connectionString: string, out: Writable, options: { signal?: AbortSignal } = {}): Promise<DumpSummary> {
  const settings = parsePostgresConnectionString(connectionString);
  const session = await PostgresSession.open(settings, "app-backup dump", options.signal);
  const output = new DumpOutput(out, options.signal);
  try {
    await session.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    // The first query fixes the snapshot: everything below sees the database as of this moment.
    const info = (await session.query<{ database: string; version: string; version_num: number }>(
      "SELECT pg_catalog.current_database() AS database, pg_catalog.current_setting('server_version') AS version, pg_catalog.current_setting('server_version_num')::int AS version_num",
    )).rows[0]!;
    if (info.version_num < MINIMUM_SERVER_VERSION) {
      throw new AppBackupError("DATABASE", `${settings.host}: PostgreSQL ${info.version} is too old to dump; PostgreSQL 12 or newer is needed.`, "Upgrade the server, or dump it with its own pg_dump.");
    }
    await session.query(`SELECT ${READ_SETTINGS.map(([name, value]) => `pg_catalog.set_config(${literal(name!)}, ${literal(value!)}, true)`).join(", ")}`);
    await lockTables(session);
    const catalog = await readCatalog(session, info.version_num);

    const plan = new DumpPlan(catalog);
    planObjects(plan, catalog);
    const { dataTables, sequences } = planRelations(plan, catalog);
    planPostData(plan, catalog);
    addCatalogDependencies(plan, catalog);
    planRefreshes(plan, catalog);
    settleSections(plan);
    const preData = orderSection(plan, "pre");
    const postData = orderSection(plan, "post");

    await output.write(header(info.database, info.version));
    for (const item of preData) await writeItem(output, item);
    const tables = await copyData(session, output, dataTables);
    await writeSequenceValues(session, output, sequences);
    for (const item of postData) await writeItem(output, item);
    await output.write(`\n${DUMP_TRAILER_LINE}\n`);
    await session.query("COMMIT");
    await output.end();
    return {
      engine: "postgresql",
      serverVersion: info.version,
      database: info.database,
      consistency: CONSISTENCY,
      tables,
      notCovered: [],
      warnings: [...plan.warnings, ...catalogWarnings(catalog)],
    };
  } catch (error) {
    if (error instanceof OutputFailure) throw options.signal?.aborted ? options.signal.reason : error.original;
    throw session.fail(error, "dump the database");
  } finally {
    await session.close();
  }
}

/** Like pg_dump: ACCESS SHARE locks keep concurrent DDL from dropping or altering a table mid-dump (writes go on). */
async function lockTables(session: PostgresSession): Promise<void> {
  const { rows } = await session.query<{ qname: string }>(`
    SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qname
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname !~ '^pg_(toast_)?temp_'`);
  for (let i = 0; i < rows.length; i += 500) {
    await session.query(`LOCK TABLE ${rows.slice(i, i + 500).map((r) => r.qname).join(", ")} IN ACCESS SHARE MODE`);
  }
}

function header(database: string, version: string): string {
  return `${DUMP_HEADER_LINE}
--
-- Database: ${commentLine(database)}
-- Server version: ${commentLine(version)}
-- Consistency: one ${CONSISTENCY}
-- Restore into an empty database with: psql -v ON_ERROR_STOP=1 -1 -f FILE
--

${REPLAY_SETTINGS}`;
}

async function writeItem(output: DumpOutput, item: DumpItem): Promise<void> {
  if (!item.sql) return;
  const schema = item.title.schema !== undefined ? `; Schema: ${commentLine(item.title.schema)}` : "";
  await output.write(`\n--\n-- Name: ${commentLine(item.title.name)}; Type: ${item.title.type}${schema}\n--\n\n${item.sql}`);
}

async function copyData(session: PostgresSession, output: DumpOutput, tables: DataTable[]): Promise<TableSummary[]> {
  const summaries: TableSummary[] = [];
  for (const table of tables) {
    const { relation, columns } = table;
    const target = `${relation.qname}${columns.length ? ` (${columns.join(", ")})` : ""}`;
    await output.write(`\n--\n-- Data for Name: ${commentLine(relation.name)}; Type: TABLE DATA; Schema: ${commentLine(relation.schema)}\n--\n\nCOPY ${target} FROM stdin;\n`);
    const stream = session.client.query(new CopyOutStream(`COPY ${target} TO STDOUT`, { highWaterMark: COPY_READ_AHEAD_BYTES }));
    // pipeFrom reports errors while the copy runs; one arriving after it (a connection dying after the last row) must not crash the process.
    stream.on("error", () => undefined);
    await output.pipeFrom(stream);
    await output.write("\\.\n");
    summaries.push({ name: `${relation.schema}.${relation.name}`, rows: stream.rows });
  }
  return summaries;
}

async function writeSequenceValues(session: PostgresSession, output: DumpOutput, sequences: SequenceValue[]): Promise<void> {
  for (let i = 0; i < sequences.length; i += 200) {
    const batch = sequences.slice(i, i + 200);
    const { rows } = await session.query<{ i: number; last_value: string; is_called: boolean }>(
      batch.map((s, index) => `SELECT ${index} AS i, last_value::text AS last_value, is_called FROM ${s.qname}`).join(" UNION ALL "),
    );
    let text = "";
    for (const row of rows.sort((a, b) => a.i - b.i)) {
      const sequence = batch[row.i]!;
      text += `SELECT pg_catalog.setval(${literal(sequence.qname)}, ${row.last_value}, ${row.is_called});\n`;
    }
    if (text) await output.write(`\n--\n-- Sequence values\n--\n\n${text}`);
  }
}

function catalogWarnings(catalog: Catalog): string[] {
  const warnings = catalog.unsupported.map((u) => `${u.count} ${u.kind} not included in the dump.`);
  if (catalog.hasPrivileges) {
    warnings.push("Privileges (GRANT/REVOKE) and object owners are not included: restored objects belong to the user that loads the dump.");
  }
  return warnings;
}
