import type {
  CheckConstraintRow,
  ColumnRow,
  ForeignKeyRow,
  IndexRow,
  ModuleRow,
  SqlServerCatalog,
  TableRow,
} from "./catalog.js";
import { NOT_INSERTABLE_TYPES, quoteName, selectExpression, valueKindFor, type ValueKind } from "./tsql-literal.js";

/**
 * Catalog rows to a T-SQL script in `GO`-separated batches, the way sqlcmd runs it:
 * `scriptBeforeData` (schemas, types, tables with their columns, defaults, primary keys and
 * unique constraints), then the data (see `TableDataPlan`), then `scriptAfterData` (indexes,
 * foreign keys, check constraints, then views, functions, procedures and triggers). Keys and
 * triggers come after the data so loading is neither slowed nor fired by them.
 */
export interface ScriptPlan {
  beforeData: string[];
  tables: TableDataPlan[];
  afterData: string[];
  warnings: string[];
}

/** How one table's rows are read and inserted. */
export interface TableDataPlan {
  /** `schema.table`, for summaries. */
  name: string;
  qualifiedName: string;
  selectSql: string;
  insertPrefix: string;
  kinds: ValueKind[];
  hasIdentity: boolean;
  /** The identity's increment and last value, to reseed after loading so new rows number on from where the source was. */
  identity: { increment: string; lastValue: string } | undefined;
}

export function planScript(catalog: SqlServerCatalog): ScriptPlan {
  const warnings: string[] = [];
  const tablesById = new Map(catalog.tables.map((table) => [table.object_id, table]));
  const columnsByTable = groupBy(catalog.columns, (column) => column.object_id);
  const beforeData: string[] = [];

  for (const schema of catalog.schemas) {
    const name = schema.name.replace(/'/g, "''");
    beforeData.push(`IF SCHEMA_ID(N'${name}') IS NULL EXEC(N'CREATE SCHEMA ${quoteName(schema.name).replace(/'/g, "''")}');`);
  }
  for (const type of catalog.types) {
    if (type.is_table_type) {
      warnings.push(`Table type ${type.schema_name}.${type.name} is not in the dump (table types are not backed up).`);
      continue;
    }
    const base = formatType(type.base_type_name ?? "", type.max_length, type.precision, type.scale);
    beforeData.push(`CREATE TYPE ${quoteName(type.schema_name)}.${quoteName(type.name)} FROM ${base} ${type.is_nullable ? "NULL" : "NOT NULL"};`);
  }

  const tables: TableDataPlan[] = [];
  for (const table of catalog.tables) {
    if (table.is_memory_optimized) warnings.push(`Table ${table.schema_name}.${table.name} is memory-optimized; it is restored as an ordinary table.`);
    if (table.temporal_type === 2) warnings.push(`Table ${table.schema_name}.${table.name} is system-versioned; its history table is dumped as an ordinary table and versioning is not re-enabled.`);
    const columns = columnsByTable.get(table.object_id) ?? [];
    beforeData.push(createTable(catalog, table, columns));
    tables.push(tableDataPlan(catalog, table, columns));
  }

  const afterData: string[] = [];
  for (const index of catalog.indexes) {
    if (index.is_primary_key || index.is_unique_constraint) continue;
    const table = tablesById.get(index.object_id);
    if (!table) continue;
    if (index.type_desc !== "CLUSTERED" && index.type_desc !== "NONCLUSTERED") {
      warnings.push(`Index ${index.name} on ${table.schema_name}.${table.name} is a ${index.type_desc.toLowerCase()} index and is not in the dump; recreate it after a restore.`);
      continue;
    }
    afterData.push(createIndex(catalog, table, index));
    if (index.is_disabled) afterData.push(`ALTER INDEX ${quoteName(index.name)} ON ${qualified(table)} DISABLE;`);
  }
  for (const foreignKey of catalog.foreignKeys) afterData.push(...addForeignKey(catalog, tablesById, foreignKey));
  for (const check of catalog.checkConstraints) {
    const table = tablesById.get(check.parent_object_id);
    if (table) afterData.push(...addCheck(table, check));
  }
  afterData.push(...scriptModules(catalog, tablesById, warnings));
  return { beforeData, tables, afterData, warnings };
}

function createTable(catalog: SqlServerCatalog, table: TableRow, columns: ColumnRow[]): string {
  const lines = columns.map((column) => `    ${columnDefinition(catalog, column)}`);
  for (const index of catalog.indexes) {
    if (index.object_id !== table.object_id || !(index.is_primary_key || index.is_unique_constraint)) continue;
    const kind = index.is_primary_key ? "PRIMARY KEY" : "UNIQUE";
    lines.push(`    CONSTRAINT ${quoteName(index.name)} ${kind} ${index.type_desc} (${keyColumns(catalog, index, columns)})${indexOptions(index)}`);
  }
  return `CREATE TABLE ${qualified(table)} (\n${lines.join(",\n")}\n);`;
}

function columnDefinition(catalog: SqlServerCatalog, column: ColumnRow): string {
  const name = quoteName(column.name);
  if (column.is_computed) {
    const computed = catalog.computedColumns.find((row) => row.object_id === column.object_id && row.column_id === column.column_id);
    const persisted = computed?.is_persisted ? " PERSISTED" : "";
    const notNull = computed?.is_persisted && !column.is_nullable ? " NOT NULL" : "";
    return `${name} AS ${computed?.definition ?? "(NULL)"}${persisted}${notNull}`;
  }
  const parts = [name, columnType(column)];
  if (column.is_sparse) parts.push("SPARSE");
  if (column.collation_name && !column.type_is_user_defined) parts.push(`COLLATE ${column.collation_name}`);
  if (column.is_identity) {
    const identity = catalog.identityColumns.find((row) => row.object_id === column.object_id && row.column_id === column.column_id);
    parts.push(`IDENTITY(${identity?.seed_value ?? "1"},${identity?.increment_value ?? "1"})`);
  }
  if (column.is_rowguidcol) parts.push("ROWGUIDCOL");
  parts.push(column.is_nullable ? "NULL" : "NOT NULL");
  const defaultConstraint = catalog.defaultConstraints.find((row) => row.parent_object_id === column.object_id && row.parent_column_id === column.column_id);
  if (defaultConstraint) parts.push(`CONSTRAINT ${quoteName(defaultConstraint.name)} DEFAULT ${defaultConstraint.definition}`);
  return parts.join(" ");
}

function columnType(column: ColumnRow): string {
  if (column.type_is_user_defined) return `${quoteName(column.type_schema_name)}.${quoteName(column.type_name)}`;
  if (column.type_name === "timestamp") return "rowversion";
  return formatType(column.type_name, column.max_length, column.precision, column.scale);
}

/** A system type with its length, precision or scale, as CREATE TABLE takes it. */
export function formatType(typeName: string, maxLength: number, precision: number, scale: number): string {
  const type = typeName.toLowerCase();
  switch (type) {
    case "char":
    case "varchar":
    case "binary":
    case "varbinary":
      return `${type}(${maxLength === -1 ? "max" : maxLength})`;
    case "nchar":
    case "nvarchar":
      return `${type}(${maxLength === -1 ? "max" : maxLength / 2})`;
    case "decimal":
    case "numeric":
      return `${type}(${precision},${scale})`;
    case "datetime2":
    case "datetimeoffset":
    case "time":
      return `${type}(${scale})`;
    default:
      return type;
  }
}

function tableDataPlan(catalog: SqlServerCatalog, table: TableRow, columns: ColumnRow[]): TableDataPlan {
  const inserted = columns.filter((column) => !column.is_computed && !NOT_INSERTABLE_TYPES.has(column.type_name) && !NOT_INSERTABLE_TYPES.has(column.system_type_name ?? ""));
  const identityColumn = columns.find((column) => column.is_identity);
  const identityRow = identityColumn && catalog.identityColumns.find((row) => row.object_id === table.object_id && row.column_id === identityColumn.column_id);
  return {
    name: `${table.schema_name}.${table.name}`,
    qualifiedName: qualified(table),
    selectSql: `SELECT ${inserted.map((column) => selectExpression(column.name, column.system_type_name, column.type_name)).join(", ")} FROM ${qualified(table)}`,
    insertPrefix: `INSERT INTO ${qualified(table)} (${inserted.map((column) => quoteName(column.name)).join(", ")}) VALUES\n`,
    kinds: inserted.map((column) => valueKindFor(column.system_type_name, column.type_name)),
    hasIdentity: identityColumn !== undefined,
    identity: identityRow && identityRow.last_value !== null ? { increment: identityRow.increment_value, lastValue: identityRow.last_value } : undefined,
  };
}

/**
 * Puts the identity where the source had it. RESEED n makes the next row n + increment once
 * rows were ever inserted, and n itself in a table never inserted into, hence the two forms.
 */
export function reseedStatement(plan: TableDataPlan, rowsInserted: number): string | undefined {
  if (!plan.identity) return undefined;
  const target = name(plan.qualifiedName);
  const value = rowsInserted > 0 ? plan.identity.lastValue : addIntegers(plan.identity.lastValue, plan.identity.increment);
  return `DBCC CHECKIDENT (N'${target}', RESEED, ${value}) WITH NO_INFOMSGS;`;
}

function name(qualifiedName: string): string {
  return qualifiedName.replace(/'/g, "''");
}

function addIntegers(a: string, b: string): string {
  return (BigInt(a.replace(/\.0*$/, "")) + BigInt(b.replace(/\.0*$/, ""))).toString();
}

function keyColumns(catalog: SqlServerCatalog, index: IndexRow, columns: ColumnRow[]): string {
  return catalog.indexColumns
    .filter((row) => row.object_id === index.object_id && row.index_id === index.index_id && !row.is_included_column && row.key_ordinal > 0)
    .sort((a, b) => a.key_ordinal - b.key_ordinal)
    .map((row) => `${quoteName(columnName(columns, row.column_id))} ${row.is_descending_key ? "DESC" : "ASC"}`)
    .join(", ");
}

function indexOptions(index: IndexRow): string {
  const options: string[] = [];
  if (index.ignore_dup_key) options.push("IGNORE_DUP_KEY = ON");
  if (index.fill_factor > 0 && index.fill_factor < 100) options.push(`FILLFACTOR = ${index.fill_factor}`);
  return options.length > 0 ? ` WITH (${options.join(", ")})` : "";
}

function createIndex(catalog: SqlServerCatalog, table: TableRow, index: IndexRow): string {
  const columns = catalog.columns.filter((column) => column.object_id === table.object_id);
  const included = catalog.indexColumns
    .filter((row) => row.object_id === index.object_id && row.index_id === index.index_id && row.is_included_column)
    .sort((a, b) => a.index_column_id - b.index_column_id)
    .map((row) => quoteName(columnName(columns, row.column_id)));
  let statement = `CREATE ${index.is_unique ? "UNIQUE " : ""}${index.type_desc} INDEX ${quoteName(index.name)} ON ${qualified(table)} (${keyColumns(catalog, index, columns)})`;
  if (included.length > 0) statement += ` INCLUDE (${included.join(", ")})`;
  if (index.has_filter && index.filter_definition) statement += ` WHERE ${index.filter_definition}`;
  return `${statement}${indexOptions(index)};`;
}

function addForeignKey(catalog: SqlServerCatalog, tablesById: Map<number, TableRow>, foreignKey: ForeignKeyRow): string[] {
  const parent = tablesById.get(foreignKey.parent_object_id);
  const referenced = tablesById.get(foreignKey.referenced_object_id);
  if (!parent || !referenced) return [];
  const pairs = catalog.foreignKeyColumns
    .filter((row) => row.constraint_object_id === foreignKey.object_id)
    .sort((a, b) => a.constraint_column_id - b.constraint_column_id);
  const parentColumns = catalog.columns.filter((column) => column.object_id === parent.object_id);
  const referencedColumns = catalog.columns.filter((column) => column.object_id === referenced.object_id);
  const from = pairs.map((row) => quoteName(columnName(parentColumns, row.parent_column_id))).join(", ");
  const to = pairs.map((row) => quoteName(columnName(referencedColumns, row.referenced_column_id))).join(", ");
  let statement = `ALTER TABLE ${qualified(parent)} WITH ${foreignKey.is_not_trusted ? "NOCHECK" : "CHECK"} ADD CONSTRAINT ${quoteName(foreignKey.name)} FOREIGN KEY (${from}) REFERENCES ${qualified(referenced)} (${to})`;
  if (foreignKey.delete_referential_action_desc !== "NO_ACTION") statement += ` ON DELETE ${foreignKey.delete_referential_action_desc.replace("_", " ")}`;
  if (foreignKey.update_referential_action_desc !== "NO_ACTION") statement += ` ON UPDATE ${foreignKey.update_referential_action_desc.replace("_", " ")}`;
  if (foreignKey.is_not_for_replication) statement += " NOT FOR REPLICATION";
  const statements = [`${statement};`];
  if (foreignKey.is_disabled) statements.push(`ALTER TABLE ${qualified(parent)} NOCHECK CONSTRAINT ${quoteName(foreignKey.name)};`);
  return statements;
}

function addCheck(table: TableRow, check: CheckConstraintRow): string[] {
  const statements = [`ALTER TABLE ${qualified(table)} WITH ${check.is_not_trusted ? "NOCHECK" : "CHECK"} ADD CONSTRAINT ${quoteName(check.name)} CHECK ${check.definition};`];
  if (check.is_disabled) statements.push(`ALTER TABLE ${qualified(table)} NOCHECK CONSTRAINT ${quoteName(check.name)};`);
  return statements;
}

/**
 * Modules in creation order (a view or schema-bound function can only be created after what
 * it names, so the order they were created in is one that works), triggers last. Each CREATE
 * is its own batch, after the ANSI_NULLS and QUOTED_IDENTIFIER settings it was created with
 * (they are fixed at creation and change its meaning).
 */
function scriptModules(catalog: SqlServerCatalog, tablesById: Map<number, TableRow>, warnings: string[]): string[] {
  const batches: string[] = [];
  const ordered = [...catalog.modules].sort((a, b) => Number(a.type === "TR") - Number(b.type === "TR") || a.create_date.localeCompare(b.create_date) || a.object_id - b.object_id);
  for (const module of ordered) {
    const label = `${moduleKind(module)} ${module.schema_name}.${module.name}`;
    if (module.definition === null) {
      warnings.push(`The ${label} is encrypted (WITH ENCRYPTION); its definition cannot be read and it is not in the dump.`);
      continue;
    }
    if (module.type === "TR" && !tablesById.has(module.parent_object_id)) {
      warnings.push(`The ${label} is not on a table and is not in the dump.`);
      continue;
    }
    batches.push(`SET ANSI_NULLS ${module.uses_ansi_nulls ? "ON" : "OFF"};`);
    batches.push(`SET QUOTED_IDENTIFIER ${module.uses_quoted_identifier ? "ON" : "OFF"};`);
    batches.push(module.definition.trim());
    if (module.type === "TR" && module.is_trigger_disabled) {
      batches.push(`DISABLE TRIGGER ${quoteName(module.schema_name)}.${quoteName(module.name)} ON ${qualified(tablesById.get(module.parent_object_id)!)};`);
    }
  }
  if (ordered.length > 0) batches.push("SET ANSI_NULLS ON;", "SET QUOTED_IDENTIFIER ON;");
  return batches;
}

function moduleKind(module: ModuleRow): string {
  switch (module.type) {
    case "V":
      return "view";
    case "P":
      return "procedure";
    case "TR":
      return "trigger";
    default:
      return "function";
  }
}

/**
 * Batches that empty a database for a load: foreign keys, then modules (newest first, the
 * reverse of the order they can be created in), then tables (with their triggers), then
 * user-defined types. Schemas are kept: the dump creates missing ones and other objects
 * (sequences, synonyms) may live in them.
 */
export function scriptDropAll(catalog: Pick<SqlServerCatalog, "tables" | "foreignKeys" | "modules" | "types">): string[] {
  const tablesById = new Map(catalog.tables.map((table) => [table.object_id, table]));
  const batches: string[] = [];
  for (const foreignKey of catalog.foreignKeys) {
    const parent = tablesById.get(foreignKey.parent_object_id);
    if (parent) batches.push(`ALTER TABLE ${qualified(parent)} DROP CONSTRAINT ${quoteName(foreignKey.name)};`);
  }
  const modules = catalog.modules
    .filter((module) => module.type !== "TR")
    .sort((a, b) => b.create_date.localeCompare(a.create_date) || b.object_id - a.object_id);
  for (const module of modules) {
    const kind = module.type === "V" ? "VIEW" : module.type === "P" ? "PROCEDURE" : "FUNCTION";
    batches.push(`DROP ${kind} ${quoteName(module.schema_name)}.${quoteName(module.name)};`);
  }
  for (const table of catalog.tables) {
    if (table.temporal_type === 2) batches.push(`ALTER TABLE ${qualified(table)} SET (SYSTEM_VERSIONING = OFF);`);
  }
  for (const table of catalog.tables) batches.push(`DROP TABLE ${qualified(table)};`);
  for (const type of catalog.types) batches.push(`DROP TYPE ${quoteName(type.schema_name)}.${quoteName(type.name)};`);
  return batches;
}

function qualified(table: Pick<TableRow, "schema_name" | "name">): string {
  return `${quoteName(table.schema_name)}.${quoteName(table.name)}`;
}

function columnName(columns: ColumnRow[], columnId: number): string {
  const column = columns.find((row) => row.column_id === columnId);
  if (!column) throw new Error(`column ${columnId} is missing from the catalog`);
  return column.name;
}

function groupBy<Row>(rows: readonly Row[], key: (row: Row) => number): Map<number, Row[]> {
  const groups = new Map<number, Row[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}
