/**
 * SQL Server / Azure SQL Database (Azure `SqlAzure`), over the mssql (tedious) driver only.
 *
 * What is and is not verified against a live server
 * -------------------------------------------------
 * No SQL Server ran while this engine was built and tested, so:
 *
 * Verified (tests, no server): connection-string parsing (ADO.NET and mssql:// URL);
 * generation of the whole script from recorded catalog rows (schemas, alias types, tables with
 * identity, computed, default, collation, sparse and rowguid columns, primary keys and unique
 * constraints, indexes with INCLUDE/filters/options, foreign keys with actions, check
 * constraints, disabled and untrusted constraints, views, functions, procedures, triggers
 * in creation order with their ANSI_NULLS/QUOTED_IDENTIFIER settings, identity reseeding),
 * compared line by line with expected scripts; value encoding (N'' strings with characters
 * beyond the BMP and control characters, 0x binary, exact decimals and money, float edge
 * values, date/time text, uniqueidentifier, bit, NULL); splitting a script into GO batches;
 * the load's drop script; refusing truncated scripts; and that connecting to a closed port
 * gives a clear DATABASE error without the password.
 *
 * Not verified: that the catalog queries run unchanged on SQL Server 2016+ and Azure SQL
 * Database and return rows of exactly the recorded shape; that the generated script runs
 * under sqlcmd and through the loader's single transaction (it uses only documented T-SQL,
 * but no server has executed it); SNAPSHOT isolation behaviour; that the server parses the
 * float literals back to the same bits (they are the shortest round-trip decimal form);
 * CLR types (hierarchyid, geometry, geography) restored from their binary form; TLS
 * certificate handling against a real server; performance on large tables.
 * Not supported: sql_variant base types (values are kept as text), sequences, synonyms,
 * table types, XML/spatial/columnstore/full-text indexes, encrypted modules, memory-optimized
 * and temporal table features (their rows are kept), database-level settings and users.
 */
import type { DatabaseEngine } from "../types.js";
import { describeSqlServerSettings, parseSqlServerConnectionString } from "./connection-string.js";
import { dumpSqlServer } from "./dump.js";
import { loadSqlServer } from "./load.js";

export const sqlServerEngine: DatabaseEngine = {
  describe: (connectionString) => describeSqlServerSettings(parseSqlServerConnectionString(connectionString)),
  dump: dumpSqlServer,
  load: loadSqlServer,
};

export { describeSqlServerSettings, parseSqlServerConnectionString } from "./connection-string.js";
export type { SqlServerConnectionSettings } from "./connection-string.js";
export { SQLSERVER_LOAD_ATOMICITY } from "./load.js";
