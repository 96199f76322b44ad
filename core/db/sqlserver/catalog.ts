/**
 * The catalog rows a SQL Server dump is generated from, one array per catalog query, with
 * the column names the queries below give them. Script generation works on this snapshot
 * only (no server access), so it is tested against recorded rows.
 */
export interface SqlServerCatalog {
  database: DatabaseRow;
  schemas: SchemaRow[];
  types: TypeRow[];
  tables: TableRow[];
  columns: ColumnRow[];
  identityColumns: IdentityColumnRow[];
  computedColumns: ComputedColumnRow[];
  defaultConstraints: DefaultConstraintRow[];
  checkConstraints: CheckConstraintRow[];
  indexes: IndexRow[];
  indexColumns: IndexColumnRow[];
  foreignKeys: ForeignKeyRow[];
  foreignKeyColumns: ForeignKeyColumnRow[];
  modules: ModuleRow[];
}

export interface DatabaseRow {
  name: string;
  collation_name: string;
  /** 0 OFF, 1 ON, 2 IN_TRANSITION_TO_OFF, 3 IN_TRANSITION_TO_ON. */
  snapshot_isolation_state: number;
  is_read_committed_snapshot_on: boolean;
  product_version: string;
  /** SERVERPROPERTY('EngineEdition'): 5 is Azure SQL Database, 8 Azure SQL Managed Instance. */
  engine_edition: number;
}

export interface SchemaRow {
  schema_id: number;
  name: string;
}

/** User-defined types (alias and table types). */
export interface TypeRow {
  user_type_id: number;
  schema_name: string;
  name: string;
  base_type_name: string | null;
  max_length: number;
  precision: number;
  scale: number;
  is_nullable: boolean;
  is_table_type: boolean;
}

export interface TableRow {
  object_id: number;
  schema_name: string;
  name: string;
  /** 0 non-temporal, 1 history table, 2 system-versioned. */
  temporal_type: number;
  is_memory_optimized: boolean;
}

export interface ColumnRow {
  object_id: number;
  column_id: number;
  name: string;
  /** The declared type: a system type name (`nvarchar`, `sysname`) or a user-defined type. */
  type_name: string;
  type_schema_name: string;
  type_is_user_defined: boolean;
  /** The system type underneath (`nvarchar` for `sysname` and alias types); null for CLR types. */
  system_type_name: string | null;
  /** Bytes; -1 for (max). */
  max_length: number;
  precision: number;
  scale: number;
  collation_name: string | null;
  is_nullable: boolean;
  is_identity: boolean;
  is_computed: boolean;
  is_rowguidcol: boolean;
  is_sparse: boolean;
}

export interface IdentityColumnRow {
  object_id: number;
  column_id: number;
  seed_value: string;
  increment_value: string;
  /** Null when no row was ever inserted. */
  last_value: string | null;
}

export interface ComputedColumnRow {
  object_id: number;
  column_id: number;
  definition: string;
  is_persisted: boolean;
}

export interface DefaultConstraintRow {
  object_id: number;
  parent_object_id: number;
  parent_column_id: number;
  name: string;
  definition: string;
}

export interface CheckConstraintRow {
  object_id: number;
  parent_object_id: number;
  name: string;
  definition: string;
  is_disabled: boolean;
  is_not_trusted: boolean;
}

export interface IndexRow {
  object_id: number;
  index_id: number;
  name: string;
  /** CLUSTERED, NONCLUSTERED, XML, SPATIAL, CLUSTERED COLUMNSTORE, NONCLUSTERED COLUMNSTORE, ... */
  type_desc: string;
  is_unique: boolean;
  is_primary_key: boolean;
  is_unique_constraint: boolean;
  ignore_dup_key: boolean;
  fill_factor: number;
  is_disabled: boolean;
  has_filter: boolean;
  filter_definition: string | null;
}

export interface IndexColumnRow {
  object_id: number;
  index_id: number;
  index_column_id: number;
  column_id: number;
  key_ordinal: number;
  is_descending_key: boolean;
  is_included_column: boolean;
}

export interface ForeignKeyRow {
  object_id: number;
  name: string;
  parent_object_id: number;
  referenced_object_id: number;
  /** NO_ACTION, CASCADE, SET_NULL, SET_DEFAULT. */
  delete_referential_action_desc: string;
  update_referential_action_desc: string;
  is_disabled: boolean;
  is_not_trusted: boolean;
  is_not_for_replication: boolean;
}

export interface ForeignKeyColumnRow {
  constraint_object_id: number;
  constraint_column_id: number;
  parent_object_id: number;
  parent_column_id: number;
  referenced_object_id: number;
  referenced_column_id: number;
}

/** Views, procedures, functions and triggers with their source. */
export interface ModuleRow {
  object_id: number;
  schema_name: string;
  name: string;
  /** V, P, FN, IF, TF, TR (sys.objects.type, trimmed). */
  type: string;
  parent_object_id: number;
  /** ISO 8601 text, for ordering by creation. */
  create_date: string;
  /** Null when the module is encrypted. */
  definition: string | null;
  uses_ansi_nulls: boolean;
  uses_quoted_identifier: boolean;
  is_trigger_disabled: boolean;
}

const USER_TABLES = "SELECT object_id FROM sys.tables WHERE is_ms_shipped = 0";

/** The catalog queries, in the order they run; each result fills the catalog field of the same name. */
export const CATALOG_QUERIES: { [Field in Exclude<keyof SqlServerCatalog, "database">]: string } & { database: string } = {
  database: `SELECT d.name, d.collation_name, d.snapshot_isolation_state, d.is_read_committed_snapshot_on,
  CONVERT(nvarchar(128), SERVERPROPERTY('ProductVersion')) AS product_version,
  CONVERT(int, SERVERPROPERTY('EngineEdition')) AS engine_edition
FROM sys.databases AS d WHERE d.database_id = DB_ID()`,
  schemas: `SELECT s.schema_id, s.name FROM sys.schemas AS s
WHERE s.schema_id BETWEEN 5 AND 16383 ORDER BY s.name`,
  types: `SELECT t.user_type_id, SCHEMA_NAME(t.schema_id) AS schema_name, t.name, bt.name AS base_type_name,
  t.max_length, t.precision, t.scale, t.is_nullable, t.is_table_type
FROM sys.types AS t LEFT JOIN sys.types AS bt ON bt.user_type_id = t.system_type_id
WHERE t.is_user_defined = 1 ORDER BY schema_name, t.name`,
  tables: `SELECT t.object_id, SCHEMA_NAME(t.schema_id) AS schema_name, t.name, t.temporal_type, t.is_memory_optimized
FROM sys.tables AS t WHERE t.is_ms_shipped = 0 ORDER BY schema_name, t.name`,
  columns: `SELECT c.object_id, c.column_id, c.name, ty.name AS type_name, SCHEMA_NAME(ty.schema_id) AS type_schema_name,
  ty.is_user_defined AS type_is_user_defined, st.name AS system_type_name,
  c.max_length, c.precision, c.scale, c.collation_name, c.is_nullable, c.is_identity, c.is_computed, c.is_rowguidcol, c.is_sparse
FROM sys.columns AS c
JOIN sys.types AS ty ON ty.user_type_id = c.user_type_id
LEFT JOIN sys.types AS st ON st.user_type_id = c.system_type_id
WHERE c.object_id IN (${USER_TABLES}) ORDER BY c.object_id, c.column_id`,
  identityColumns: `SELECT ic.object_id, ic.column_id, CONVERT(varchar(40), ic.seed_value) AS seed_value,
  CONVERT(varchar(40), ic.increment_value) AS increment_value, CONVERT(varchar(40), ic.last_value) AS last_value
FROM sys.identity_columns AS ic WHERE ic.object_id IN (${USER_TABLES})`,
  computedColumns: `SELECT cc.object_id, cc.column_id, cc.definition, cc.is_persisted
FROM sys.computed_columns AS cc WHERE cc.object_id IN (${USER_TABLES})`,
  defaultConstraints: `SELECT dc.object_id, dc.parent_object_id, dc.parent_column_id, dc.name, dc.definition
FROM sys.default_constraints AS dc WHERE dc.parent_object_id IN (${USER_TABLES})`,
  checkConstraints: `SELECT cc.object_id, cc.parent_object_id, cc.name, cc.definition, cc.is_disabled, cc.is_not_trusted
FROM sys.check_constraints AS cc WHERE cc.parent_object_id IN (${USER_TABLES}) ORDER BY cc.parent_object_id, cc.name`,
  indexes: `SELECT i.object_id, i.index_id, i.name, i.type_desc, i.is_unique, i.is_primary_key, i.is_unique_constraint,
  i.ignore_dup_key, i.fill_factor, i.is_disabled, i.has_filter, i.filter_definition
FROM sys.indexes AS i
WHERE i.object_id IN (${USER_TABLES}) AND i.type > 0 AND i.is_hypothetical = 0
ORDER BY i.object_id, i.index_id`,
  indexColumns: `SELECT ic.object_id, ic.index_id, ic.index_column_id, ic.column_id, ic.key_ordinal, ic.is_descending_key, ic.is_included_column
FROM sys.index_columns AS ic WHERE ic.object_id IN (${USER_TABLES})
ORDER BY ic.object_id, ic.index_id, ic.key_ordinal, ic.index_column_id`,
  foreignKeys: `SELECT fk.object_id, fk.name, fk.parent_object_id, fk.referenced_object_id,
  fk.delete_referential_action_desc, fk.update_referential_action_desc, fk.is_disabled, fk.is_not_trusted, fk.is_not_for_replication
FROM sys.foreign_keys AS fk WHERE fk.parent_object_id IN (${USER_TABLES}) ORDER BY fk.parent_object_id, fk.name`,
  foreignKeyColumns: `SELECT fkc.constraint_object_id, fkc.constraint_column_id, fkc.parent_object_id, fkc.parent_column_id,
  fkc.referenced_object_id, fkc.referenced_column_id
FROM sys.foreign_key_columns AS fkc WHERE fkc.parent_object_id IN (${USER_TABLES})
ORDER BY fkc.constraint_object_id, fkc.constraint_column_id`,
  modules: `SELECT o.object_id, SCHEMA_NAME(o.schema_id) AS schema_name, o.name, RTRIM(o.type) AS type, o.parent_object_id,
  CONVERT(varchar(33), o.create_date, 126) AS create_date, m.definition, m.uses_ansi_nulls, m.uses_quoted_identifier,
  CONVERT(bit, CASE WHEN o.type = 'TR' THEN OBJECTPROPERTY(o.object_id, 'ExecIsTriggerDisabled') ELSE 0 END) AS is_trigger_disabled
FROM sys.objects AS o JOIN sys.sql_modules AS m ON m.object_id = o.object_id
WHERE o.is_ms_shipped = 0 AND o.type IN ('V', 'P', 'FN', 'IF', 'TF', 'TR')
ORDER BY o.create_date, o.object_id`,
};

/** Runs the catalog queries through `query` (a request bound to the dump's transaction). */
export async function readCatalog(query: (sql: string) => Promise<unknown[]>): Promise<SqlServerCatalog> {
  const catalog: Partial<Record<keyof SqlServerCatalog, unknown>> = {};
  for (const [field, sql] of Object.entries(CATALOG_QUERIES) as Array<[keyof SqlServerCatalog, string]>) {
    const rows = await query(sql);
    catalog[field] = field === "database" ? rows[0] : rows;
  }
  return catalog as SqlServerCatalog;
}
