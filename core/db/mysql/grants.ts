import type { MysqlSession } from "./session.js";

/** What the account's grants say about reading the whole database. */
export interface SelectCoverage {
  /** SELECT holds for every table of the database, present and future (`*.*` or `db.*`). */
  databaseWide: boolean;
  /** The database's base tables, when the server lets the account count them; undefined when it does not. */
  tablesInDatabase?: number;
}

/**
 * Whether the account may read every table of `database`. MySQL and MariaDB hide
 * the tables an account has no privilege on, from `information_schema` and from
 * `SHOW TABLES` alike, so a dump by an account with SELECT granted per table
 * silently misses the others; only the grants tell.
 */
export async function readSelectCoverage(session: MysqlSession, database: string): Promise<SelectCoverage> {
  const databaseWide = await hasDatabaseWideSelect(session, database);
  return { databaseWide, tablesInDatabase: databaseWide ? undefined : await countTablesBeyondPrivileges(session, database) };
}

/** The warning a dump carries when the account may not see every table, naming the database. */
export function selectCoverageWarning(coverage: SelectCoverage, user: string, database: string, visibleTables: number): string | undefined {
  if (coverage.databaseWide) return undefined;
  const counted =
    coverage.tablesInDatabase !== undefined && coverage.tablesInDatabase > visibleTables
      ? `; the database has ${coverage.tablesInDatabase} tables, the account sees ${visibleTables}`
      : `; the account sees ${visibleTables} table(s)`;
  return (
    `User "${user}" has no SELECT privilege on the whole database ${database} (only on some of its tables${counted}): ` +
    `tables the account cannot see are not in the dump. Grant SELECT ON \`${database.replace(/`/g, "``")}\`.* to the account to back up every table.`
  );
}

async function hasDatabaseWideSelect(session: MysqlSession, database: string): Promise<boolean> {
  let lines: string[];
  try {
    // SHOW GRANTS lists the account's grants and, on MariaDB, those of its active role.
    const rows = await session.query<Record<string, string>>("SHOW GRANTS");
    lines = rows.map((row) => String(Object.values(row)[0] ?? ""));
  } catch {
    return hasDatabaseWideSelectInInformationSchema(session, database);
  }
  let granted = false;
  for (const line of lines) {
    const grant = /^(GRANT|REVOKE)\s+(.+?)\s+ON\s+(\S+)\s+(?:TO|FROM)\s/i.exec(line);
    if (!grant || !grantsSelect(grant[2]!) || !coversDatabase(grant[3]!, database)) continue;
    // A partial revoke (MySQL 8) takes SELECT on the database back from a global grant.
    if (grant[1]!.toUpperCase() === "REVOKE") return false;
    granted = true;
  }
  return granted;
}

/** `SELECT` or `ALL [PRIVILEGES]` as a whole privilege; `SELECT (col)` is a column grant, not a table's. */
function grantsSelect(privileges: string): boolean {
  return privileges.split(",").some((p) => /^\s*(SELECT|ALL(\s+PRIVILEGES)?)\s*$/i.test(p));
}

/** `*.*`, or `db.*` whose database pattern (with `%` and `_` wildcards) matches the database. */
function coversDatabase(target: string, database: string): boolean {
  if (target === "*.*") return true;
  const match = /^(`(?:[^`]|``)+`|[^.`]+)\.\*$/.exec(target);
  if (!match) return false;
  const name = match[1]!.startsWith("`") ? match[1]!.slice(1, -1).replace(/``/g, "`") : match[1]!;
  return databasePattern(name).test(database);
}

function databasePattern(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (c === "%") source += ".*";
    else if (c === "_") source += ".";
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, "i");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function hasDatabaseWideSelectInInformationSchema(session: MysqlSession, database: string): Promise<boolean> {
  try {
    const global = await session.query("SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SELECT' LIMIT 1");
    if (global.length > 0) return true;
    const schemas = await session.query<{ TABLE_SCHEMA: string }>("SELECT TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SELECT'");
    return schemas.some((row) => databasePattern(row.TABLE_SCHEMA).test(database));
  } catch {
    // Nothing says the account is limited: no warning rather than a false one.
    return true;
  }
}

/**
 * The database's InnoDB tables as the storage engine knows them, which ignores
 * table privileges; readable only with PROCESS (or SELECT on `mysql`), so most
 * limited accounts get undefined and the warning says only what they see.
 */
async function countTablesBeyondPrivileges(session: MysqlSession, database: string): Promise<number | undefined> {
  const prefix = `${database.replace(/[\\%_]/g, "\\$&")}/%`;
  for (const sql of [
    "SELECT COUNT(*) AS n FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE ?",
    "SELECT COUNT(*) AS n FROM information_schema.INNODB_TABLES WHERE NAME LIKE ?",
  ]) {
    try {
      const [row] = await session.query<{ n: string | number }>(sql, [prefix]);
      const count = Number(row?.n ?? 0);
      if (count > 0) return count;
    } catch {
      // Not this server's table, or not this account's to read.
    }
  }
  return undefined;
}
