/**
 * SQL Server / Azure SQL Database (Azure `SqlAzure`), over the mssql (tedious) driver only.
 *
 * What is and is not verified against a live server
 * -------------------------------------------------
 * No SQL Server could run where this engine was built, so nothing here has run against one.
 *
 * Verified by tests without a server: parsing ADO.NET and mssql:// connection strings;
 * generating the whole script from recorded catalog rows (schemas, alias types, tables with
 * identity, computed, default, collation, sparse and rowguid columns, primary keys and unique
 * constraints, indexes with INCLUDE, filters and options, foreign keys with actions, check
 * constraints, disabled and untrusted constraints, views, functions, procedures and triggers in
 * creation order with their ANSI_NULLS/QUOTED_IDENTIFIER settings, disabled triggers, identity
 * reseeding), compared line by line with a hand-written expected script; encoding values
 * (N'' strings with characters beyond the BMP, control characters and unpaired surrogates,
 * 0x binary, exact decimals and money, float edge values, date/time text, uniqueidentifier,
 * bit, NULL); splitting a script into GO batches and detecting a cut one; the load's script
 * that drops the target's objects; and that a closed port gives a clear DATABASE error
 * without the password.
 *
 * Not verified: that the catalog queries run as written on SQL Server 2016+ and Azure SQL
 * Database and return rows of the recorded shape; that the generated script runs under sqlcmd
 * and inside the loader's single transaction (it uses documented T-SQL only); SNAPSHOT
 * isolation in practice; that the server reads the float literals back to the same bits (they
 * are the shortest round-trip decimal form); CLR types (hierarchyid, geometry, geography)
 * restored from their binary form; TLS certificate handling; speed on large tables.
 *
 * Not supported: sql_variant base types (values are kept as text), sequences, synonyms,
 * table types, XML/spatial/columnstore/full-text indexes, encrypted modules, memory-optimized
 * and temporal table features (their rows are kept), users, permissions and database settings.
 */
import type { DatabaseEngine } from "../types.js";
import { describeSqlServerSettings, parseSqlServerConnectionString } from "./connection-string.js";
import { dumpSqlServer } from "./dump.js";
import { loadSqlServer, SQLSERVER_LOAD_ATOMICITY } from "./load.js";

export const sqlServerEngine: DatabaseEngine = {
  describe: (connectionString) => describeSqlServerSettings(parseSqlServerConnectionString(connectionString)),
  dump: dumpSqlServer,
  load: loadSqlServer,
  loadAtomicity: SQLSERVER_LOAD_ATOMICITY,
};

export { describeSqlServerSettings, parseSqlServerConnectionString } from "./connection-string.js";
export type { SqlServerConnectionSettings } from "./connection-string.js";
export { SQLSERVER_LOAD_ATOMICITY } from "./load.js";
