import { startPostgresServer, type PostgresTestServer } from "./postgres-server.mjs";

export type { PostgresTestServer } from "./postgres-server.mjs";
export { TEST_USER, TLS_HOST_NAME } from "./postgres-server.mjs";

/**
 * A throwaway PostgreSQL server (Debian's binaries, run as `nobody` when tests run as root) in a
 * temp folder on a free 127.0.0.1 port, with scram password auth for a non-superuser test role.
 * Start it once per test file in `beforeAll`; `stop()` removes everything.
 */
export function startPostgres(options: { tls?: boolean } = {}): Promise<PostgresTestServer> {
  return startPostgresServer(options);
}

let databaseCounter = 0;

/** Creates a fresh empty database owned by the test role and returns its name. */
export async function freshDatabase(server: PostgresTestServer, prefix = "db"): Promise<string> {
  databaseCounter++;
  return server.createDatabase(`${prefix}_${process.pid}_${databaseCounter}`);
}

/** Runs SQL as the test role in a database (multiple statements allowed). */
export async function sql(server: PostgresTestServer, database: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = await server.client(database);
  try {
    const result = await client.query(text);
    const last = Array.isArray(result) ? result.at(-1) : result;
    return (last?.rows ?? []) as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

/**
 * `pg_dump --schema-only` of a database, with what legitimately differs between two databases of
 * the same content removed: psql's per-run `\restrict` keys.
 */
export async function schemaDump(server: PostgresTestServer, database: string): Promise<string> {
  const text = await server.tool("pg_dump", ["--schema-only", "-d", database]);
  return text
    .split("\n")
    .filter((line) => !/^\\(un)?restrict /.test(line))
    .join("\n");
}

/**
 * An md5 of every table's and materialized view's rows (as row literals, sorted), and every
 * sequence's position: equal maps mean equal data.
 */
export async function contentChecksums(server: PostgresTestServer, database: string): Promise<Record<string, string>> {
  const client = await server.client(database);
  try {
    const relations = await client.query<{ qname: string; kind: string }>(`
      SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qname, c.relkind AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1`);
    const checksums: Record<string, string> = {};
    for (const { qname, kind } of relations.rows) {
      if (kind === "m" && !(await client.query(`SELECT relispopulated FROM pg_class WHERE oid = '${qname.replace(/'/g, "''")}'::regclass`)).rows[0].relispopulated) {
        checksums[qname] = "not populated";
        continue;
      }
      const query = kind === "S"
        ? `SELECT last_value::text || '/' || is_called::text AS sum FROM ${qname}`
        : `SELECT count(*)::text || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS sum FROM ONLY ${qname} t`;
      checksums[qname] = (await client.query(query)).rows[0].sum;
    }
    return checksums;
  } finally {
    await client.end();
  }
}
