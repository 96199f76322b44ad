import type { MysqlSession } from "./session.js";
import { quoteIdentifier } from "./session.js";

/** A base table or sequence, with the columns a dump inserts (generated columns excluded). */
export interface TableDefinition {
  name: string;
  kind: "table" | "sequence";
  engine: string | null;
  systemVersioned: boolean;
  createStatement: string;
  insertColumns: string[];
  /** What to select for each insert column. */
  selectExpressions: string[];
}

/** A view, routine or trigger as `SHOW CREATE` gives it, with the session settings it was created under. */
export interface StoredObjectDefinition {
  kind: "VIEW" | "PROCEDURE" | "FUNCTION" | "TRIGGER";
  name: string;
  /** The CREATE statement without its DEFINER clause. */
  createStatement: string;
  sqlMode: string | null;
  characterSetClient: string;
  collationConnection: string;
}

interface TableRow {
  TABLE_NAME: string;
  TABLE_TYPE: string;
  ENGINE: string | null;
}

/** Tables, sequences and views of the session's current database, by name. */
export async function listTables(session: MysqlSession): Promise<{ tables: TableRow[]; views: string[] }> {
  const rows = await session.query<TableRow>(
    "SELECT TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
  );
  return {
    tables: rows.filter((row) => row.TABLE_TYPE !== "VIEW" && row.TABLE_TYPE !== "TEMPORARY"),
    views: rows.filter((row) => row.TABLE_TYPE === "VIEW").map((row) => row.TABLE_NAME),
  };
}

export async function readTableDefinition(session: MysqlSession, row: TableRow): Promise<TableDefinition> {
  const kind = row.TABLE_TYPE === "SEQUENCE" ? "sequence" : "table";
  // SHOW CREATE TABLE of a sequence gives its backing table, which loses the start and increment.
  const [created] = await session.query<Record<string, string>>(`SHOW CREATE ${kind === "sequence" ? "SEQUENCE" : "TABLE"} ${quoteIdentifier(row.TABLE_NAME)}`);
  const createStatement = created?.["Create Table"] ?? created?.["Create Sequence"];
  if (createStatement === undefined) throw new Error(`SHOW CREATE TABLE returned nothing for ${row.TABLE_NAME}`);
  const allColumns = await session.query<{ COLUMN_NAME: string; EXTRA: string | null; DATA_TYPE: string }>(
    "SELECT COLUMN_NAME, EXTRA, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    [row.TABLE_NAME],
  );
  // The server computes generated columns itself and rejects values for them.
  const columns = allColumns.filter((column) => !/\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(column.EXTRA ?? ""));
  return {
    name: row.TABLE_NAME,
    kind,
    engine: row.ENGINE,
    systemVersioned: row.TABLE_TYPE === "SYSTEM VERSIONED",
    createStatement,
    insertColumns: columns.map((column) => column.COLUMN_NAME),
    selectExpressions: columns.map((column) => selectExpression(column.COLUMN_NAME, column.DATA_TYPE)),
  };
}

/**
 * FLOAT values travel as text with only 6 significant digits, which does not give the same
 * float back; widened to DOUBLE (exact) they print with all the digits needed.
 */
function selectExpression(column: string, dataType: string): string {
  return dataType.toLowerCase() === "float" ? `${quoteIdentifier(column)} + 0E0` : quoteIdentifier(column);
}

/** The sequence's state as a statement that restores it (the next value it hands out). */
export async function readSequenceState(session: MysqlSession, name: string): Promise<string> {
  const [state] = await session.query<{ next_not_cached_value: string }>(`SELECT next_not_cached_value FROM ${quoteIdentifier(name)}`);
  return `DO SETVAL(${quoteIdentifier(name)}, ${state!.next_not_cached_value}, 0);\n`;
}

export async function readViews(session: MysqlSession, names: readonly string[]): Promise<StoredObjectDefinition[]> {
  const views: StoredObjectDefinition[] = [];
  for (const name of names) {
    const [row] = await session.query<Record<string, string>>(`SHOW CREATE VIEW ${quoteIdentifier(name)}`);
    views.push({
      kind: "VIEW",
      name,
      createStatement: withoutDefiner(row!["Create View"]!),
      sqlMode: null,
      characterSetClient: row!["character_set_client"]!,
      collationConnection: row!["collation_connection"]!,
    });
  }
  return orderViewsByDependency(views);
}

export interface RoutineReadResult {
  routines: StoredObjectDefinition[];
  unreadable: string[];
  unsupported: string[];
}

export async function readRoutines(session: MysqlSession): Promise<RoutineReadResult> {
  const rows = await session.query<{ ROUTINE_NAME: string; ROUTINE_TYPE: string }>(
    "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
  );
  const result: RoutineReadResult = { routines: [], unreadable: [], unsupported: [] };
  for (const row of rows) {
    if (row.ROUTINE_TYPE !== "PROCEDURE" && row.ROUTINE_TYPE !== "FUNCTION") {
      result.unsupported.push(`${row.ROUTINE_TYPE.toLowerCase()} ${row.ROUTINE_NAME}`);
      continue;
    }
    const kind = row.ROUTINE_TYPE;
    const [created] = await session.query<Record<string, string | null>>(`SHOW CREATE ${kind} ${quoteIdentifier(row.ROUTINE_NAME)}`);
    const text = created?.[kind === "PROCEDURE" ? "Create Procedure" : "Create Function"];
    if (!text) {
      result.unreadable.push(`${kind.toLowerCase()} ${row.ROUTINE_NAME}`);
      continue;
    }
    result.routines.push({
      kind,
      name: row.ROUTINE_NAME,
      createStatement: withoutDefiner(text),
      sqlMode: created!["sql_mode"] ?? "",
      characterSetClient: created!["character_set_client"] ?? "utf8mb4",
      collationConnection: created!["collation_connection"] ?? "utf8mb4_general_ci",
    });
  }
  return result;
}

/** Triggers of the current database; `keepDefiner` keeps the DEFINER clause (to put triggers back as they were). */
export async function readTriggers(session: MysqlSession, options: { keepDefiner?: boolean } = {}): Promise<StoredObjectDefinition[]> {
  // Creating a table's triggers in ACTION_ORDER recreates their firing order.
  const rows = await session.query<{ TRIGGER_NAME: string }>(
    "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
  );
  const triggers: StoredObjectDefinition[] = [];
  for (const row of rows) {
    const [created] = await session.query<Record<string, string>>(`SHOW CREATE TRIGGER ${quoteIdentifier(row.TRIGGER_NAME)}`);
    triggers.push({
      kind: "TRIGGER",
      name: row.TRIGGER_NAME,
      createStatement: options.keepDefiner ? created!["SQL Original Statement"]! : withoutDefiner(created!["SQL Original Statement"]!),
      sqlMode: created!["sql_mode"] ?? "",
      characterSetClient: created!["character_set_client"]!,
      collationConnection: created!["collation_connection"]!,
    });
  }
  return triggers;
}

export async function countEvents(session: MysqlSession): Promise<number> {
  const [row] = await session.query<{ n: string | number }>("SELECT COUNT(*) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()");
  return Number(row?.n ?? 0);
}

const QUOTED_ACCOUNT_PART = "(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\\s@`'\"]+)";
const DEFINER_CLAUSE = new RegExp(`\\bDEFINER\\s*=\\s*(?:CURRENT_USER(?:\\s*\\(\\s*\\))?|CURRENT_ROLE|${QUOTED_ACCOUNT_PART}(?:\\s*@\\s*${QUOTED_ACCOUNT_PART})?)\\s+`, "i");

/**
 * Drops the `DEFINER=user@host` clause of a CREATE statement's header so the object belongs to
 * whoever restores it: the original account often does not exist on the target server, and
 * naming another account needs the SUPER / SET USER privilege that app accounts lack.
 */
export function withoutDefiner(createStatement: string): string {
  const headerEnd = createStatement.search(/\b(VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT)\b/i);
  if (headerEnd < 0) return createStatement;
  const header = createStatement.slice(0, headerEnd);
  return header.replace(DEFINER_CLAUSE, "") + createStatement.slice(headerEnd);
}

/** Orders views so that each comes after the views its definition names. */
export function orderViewsByDependency<View extends { name: string; createStatement: string }>(views: readonly View[]): View[] {
  const byName = new Map(views.map((view) => [view.name, view]));
  const ordered: View[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (view: View) => {
    const current = state.get(view.name);
    if (current === "done" || current === "visiting") return;
    state.set(view.name, "visiting");
    for (const other of byName.values()) {
      if (other !== view && mentionsIdentifier(view.createStatement, other.name)) visit(other);
    }
    state.set(view.name, "done");
    ordered.push(view);
  };
  for (const view of views) visit(view);
  return ordered;
}

function mentionsIdentifier(statement: string, name: string): boolean {
  const body = statement.slice(statement.search(/\bAS\b/i));
  return body.includes(quoteIdentifier(name));
}
