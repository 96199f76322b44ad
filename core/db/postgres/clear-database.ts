import type { PostgresSession } from "./session.js";

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'public') AND n.nspname !~ '^pg_(toast_)?temp_'`;
const NOT_EXTENSION_MEMBER = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = '${catalog}'::pg_catalog.regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

/**
 * Drops the database's user objects inside the caller's transaction: extensions (but plpgsql),
 * every schema but the system ones and `public`, and everything in `public`. `public` itself stays:
 * every database has it, with an owner and privileges that the dump does not carry.
 */
export async function clearDatabase(session: PostgresSession): Promise<void> {
  const names = async (sql: string) => (await session.query<{ name: string }>(sql)).rows.map((r) => r.name);

  const extensions = await names(`SELECT pg_catalog.quote_ident(extname) AS name FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'`);
  if (extensions.length) await session.query(`DROP EXTENSION IF EXISTS ${extensions.join(", ")} CASCADE`);

  const schemas = await names(`SELECT pg_catalog.quote_ident(n.nspname) AS name FROM pg_catalog.pg_namespace n WHERE ${USER_SCHEMAS}`);
  for (const schema of schemas) await session.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);

  const relations = await session.query<{ kind: string; name: string }>(`
    SELECT c.relkind AS kind, 'public.' || pg_catalog.quote_ident(c.relname) AS name
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = 'public'::pg_catalog.regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${NOT_EXTENSION_MEMBER("pg_class", "c.oid")}`);
  const dropRelation: Record<string, string> = { r: "TABLE", p: "TABLE", v: "VIEW", m: "MATERIALIZED VIEW", f: "FOREIGN TABLE", S: "SEQUENCE" };
  for (const relation of relations.rows) await session.query(`DROP ${dropRelation[relation.kind]} IF EXISTS ${relation.name} CASCADE`);

  const routines = await names(`
    SELECT 'public.' || pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS name
    FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'public'::pg_catalog.regnamespace AND ${NOT_EXTENSION_MEMBER("pg_proc", "p.oid")}`);
  for (const routine of routines) await session.query(`DROP ROUTINE IF EXISTS ${routine} CASCADE`);

  const types = await session.query<{ kind: string; name: string }>(`
    SELECT t.typtype AS kind, 'public.' || pg_catalog.quote_ident(t.typname) AS name
    FROM pg_catalog.pg_type t
    WHERE t.typnamespace = 'public'::pg_catalog.regnamespace AND ${NOT_EXTENSION_MEMBER("pg_type", "t.oid")}
      AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT r.relkind FROM pg_catalog.pg_class r WHERE r.oid = t.typrelid) = 'c'))`);
  for (const type of types.rows) await session.query(`DROP ${type.kind === "d" ? "DOMAIN" : "TYPE"} IF EXISTS ${type.name} CASCADE`);

  const collations = await names(`
    SELECT 'public.' || pg_catalog.quote_ident(c.collname) AS name FROM pg_catalog.pg_collation c
    WHERE c.collnamespace = 'public'::pg_catalog.regnamespace AND ${NOT_EXTENSION_MEMBER("pg_collation", "c.oid")}`);
  for (const collation of collations) await session.query(`DROP COLLATION IF EXISTS ${collation} CASCADE`);
}
