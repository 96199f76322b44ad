import { startMariaDbServer, TEST_PASSWORD, TEST_USER, type MariaDbServer } from "./mariadb-server.mjs";

export { startMariaDbServer, TEST_PASSWORD, TEST_USER, type MariaDbServer };

/** `CHECKSUM TABLE` of every base table of a database, by table name. */
export async function tableChecksums(server: MariaDbServer, database: string): Promise<Record<string, string>> {
  const tables = (await server.sql(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}' AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`))
    .split("\n")
    .filter(Boolean);
  const checksums: Record<string, string> = {};
  for (const table of tables) {
    const line = (await server.sql(`CHECKSUM TABLE ${quote(database)}.${quote(table)} EXTENDED`)).trim();
    checksums[table] = line.split("\t")[1]!;
  }
  return checksums;
}

function quote(name: string): string {
  return "`" + name.replace(/`/g, "``") + "`";
}

/**
 * `mariadb-dump --no-data` of a database, the reference for "same structure": tables with
 * AUTO_INCREMENT values, keys, foreign keys, views, routines and triggers. Only the database
 * name in comments and qualified names differs between two databases, and is replaced.
 */
export async function structureDump(server: MariaDbServer, database: string): Promise<string> {
  const text = await server.tool("mariadb-dump", server.toolArgs("--no-data", "--skip-dump-date", "--routines", "--triggers", "--skip-comments", database));
  return text.split(quote(database)).join("`DB`");
}

/** Rows of a query as tab-separated lines. */
export async function rows(server: MariaDbServer, database: string, query: string): Promise<string[]> {
  return (await server.sql(query, database)).split("\n").filter((line) => line !== "");
}
