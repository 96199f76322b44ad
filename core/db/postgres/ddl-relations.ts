import type { Catalog, ColumnRow, ConstraintRow, RelationRow, SequenceRow } from "./catalog.js";
import { groupBy } from "./ddl-objects.js";
import { DumpPlan, Rank, ref } from "./dump-plan.js";
import { commentOn, withOptions } from "./sql-text.js";

const STORAGE: Record<string, string> = { p: "PLAIN", e: "EXTERNAL", m: "MAIN", x: "EXTENDED" };

/** A table whose rows the dump copies. */
export interface DataTable {
  relation: RelationRow;
  /** Quoted names of the columns COPY moves (generated columns are computed again on load). */
  columns: string[];
}

/** A sequence whose current value the dump restores with setval. */
export interface SequenceValue {
  qname: string;
}

export interface RelationPlan {
  dataTables: DataTable[];
  sequences: SequenceValue[];
}

/** Sequences, tables (plain, partitioned, partitions, inheritance children), views, materialized views and column defaults. */
export function planRelations(plan: DumpPlan, catalog: Catalog): RelationPlan {
  const relations = new Map(catalog.relations.map((r) => [r.oid, r]));
  const columnsOf = groupBy(catalog.columns, (c) => c.rel);
  const checksOf = groupBy(catalog.constraints.filter((c) => c.type === "c"), (c) => c.rel);
  const sequenceOf = new Map(catalog.sequences.map((s) => [s.oid, s]));
  const identitySequences = new Map<string, { relation: RelationRow; sequence: SequenceRow }>();
  const dataTables: DataTable[] = [];
  const sequences: SequenceValue[] = [];

  for (const sequence of catalog.sequences) {
    const relation = relations.get(sequence.oid);
    if (relation && sequence.owner_deptype === "i" && sequence.owner_table !== null) {
      identitySequences.set(`${sequence.owner_table}:${sequence.owner_column}`, { relation, sequence });
    }
  }

  for (const relation of catalog.relations) {
    const key = ref("pg_class", relation.oid);
    const title = (type: string) => ({ name: relation.name, type, schema: relation.schema });
    const base = { key, section: "pre" as const, sortKey: relation.qname, deps: [ref("pg_namespace", relation.schema_oid)] };
    const columns = columnsOf.get(relation.oid) ?? [];
    switch (relation.relkind) {
      case "S": {
        const sequence = sequenceOf.get(relation.oid);
        if (!sequence) break;
        sequences.push({ qname: relation.qname });
        if (sequence.owner_deptype === "i") {
          // Created by its identity column; setval still restores its position.
          if (sequence.owner_table !== null) plan.own(key, ref("pg_class", sequence.owner_table));
          break;
        }
        const unlogged = relation.persistence === "u" ? "UNLOGGED " : "";
        let sql = `CREATE ${unlogged}SEQUENCE ${relation.qname}\n    ${sequenceOptions(sequence)};\n`;
        const owner = sequence.owner_table !== null ? relations.get(sequence.owner_table) : undefined;
        const ownerColumn = owner && (columnsOf.get(owner.oid) ?? []).find((c) => c.num === sequence.owner_column);
        if (owner && ownerColumn) sql += `ALTER SEQUENCE ${relation.qname} OWNED BY ${owner.qname}.${ownerColumn.q};\n`;
        sql += commentOn("SEQUENCE", relation.qname, relation.comment);
        plan.add({ ...base, rank: Rank.sequence, title: title("SEQUENCE"), sql });
        break;
      }
      case "r":
      case "p": {
        const parents = relation.parents.map((oid) => relations.get(Number(oid))).filter((p): p is RelationRow => !!p);
        const parentColumns = parents.flatMap((p) => columnsOf.get(p.oid) ?? []);
        const checks = checksOf.get(relation.oid) ?? [];
        const sql = tableSql(relation, columns, checks, parents, parentColumns, identitySequences);
        plan.add({ ...base, rank: Rank.table, title: title("TABLE"), sql, deps: [...base.deps, ...parents.map((p) => ref("pg_class", p.oid))] });
        for (const check of checks) {
          // Inline checks and inherited ones come with the table; NOT VALID ones are added after the data.
          if (check.validated || !check.is_local) plan.own(ref("pg_constraint", check.oid), key);
        }
        if (relation.relkind === "r") {
          dataTables.push({ relation, columns: columns.filter((c) => !c.generated).map((c) => c.q) });
        }
        break;
      }
      case "v":
      case "m": {
        const materialized = relation.relkind === "m";
        const definition = (relation.view_def ?? "").replace(/;\s*$/, "");
        let sql = materialized
          ? `CREATE MATERIALIZED VIEW ${relation.qname}${relation.access_method ? ` USING ${relation.access_method}` : ""}${withOptions(relation.options)} AS\n${definition}\n  WITH NO DATA;\n`
          : `CREATE VIEW ${relation.qname}${withOptions(relation.options)} AS\n${definition};\n`;
        sql += commentOn(materialized ? "MATERIALIZED VIEW" : "VIEW", relation.qname, relation.comment);
        sql += columns.map((c) => commentOn("COLUMN", `${relation.qname}.${c.q}`, c.comment)).join("");
        plan.add({ ...base, rank: Rank.view, title: title(materialized ? "MATERIALIZED VIEW" : "VIEW"), sql });
        break;
      }
      default:
        break;
    }

    for (const column of columns) {
      if (column.default_oid === null || column.default_expr === null) continue;
      const defaultRef = ref("pg_attrdef", column.default_oid);
      if (column.generated || !plan.items.has(key)) {
        plan.own(defaultRef, key);
        continue;
      }
      // Separate from CREATE TABLE: a serial column's default needs the sequence, which itself is owned by the column.
      const alter = relation.relkind === "v" ? `ALTER VIEW ${relation.qname}` : `ALTER TABLE ONLY ${relation.qname}`;
      plan.add({
        key: defaultRef, section: "pre", rank: Rank.default, sortKey: `${relation.qname}.${column.q}`,
        title: { name: `${relation.name} ${column.name}`, type: "DEFAULT", schema: relation.schema },
        sql: `${alter} ALTER COLUMN ${column.q} SET DEFAULT ${column.default_expr};\n`,
        deps: [key],
      });
    }
  }

  for (const relation of catalog.relations) {
    if (relation.relkind === "f") plan.warnings.push(`Foreign table ${relation.qname} is not included in the dump.`);
  }
  return { dataTables, sequences };
}

function tableSql(
  relation: RelationRow,
  columns: ColumnRow[],
  checks: ConstraintRow[],
  parents: RelationRow[],
  parentColumns: ColumnRow[],
  identitySequences: Map<string, { relation: RelationRow; sequence: SequenceRow }>,
): string {
  const unlogged = relation.persistence === "u" ? "UNLOGGED " : "";
  const inlineChecks = checks.filter((c) => c.is_local && c.validated).map((c) => `CONSTRAINT ${c.q} ${c.def}`);
  const after: string[] = [];
  let sql: string;
  if (relation.is_partition && parents[0]) {
    // Columns, NOT NULL and inherited checks come from the parent.
    const list = inlineChecks.length ? ` (\n    ${inlineChecks.join(",\n    ")}\n)` : "";
    sql = `CREATE ${unlogged}TABLE ${relation.qname} PARTITION OF ${parents[0].qname}${list}\n${relation.partition_bound}`;
  } else {
    const defined = columns.filter((c) => c.is_local || parents.length === 0).map((c) => columnSql(relation, c, identitySequences));
    const list = [...defined, ...inlineChecks];
    sql = `CREATE ${unlogged}TABLE ${relation.qname} (${list.length ? `\n    ${list.join(",\n    ")}\n` : ""})`;
    if (parents.length) sql += `\nINHERITS (${parents.map((p) => p.qname).join(", ")})`;
  }
  if (relation.partition_key) sql += `\nPARTITION BY ${relation.partition_key}`;
  if (relation.access_method) sql += `\nUSING ${relation.access_method}`;
  sql += `${withOptions(relation.options)};\n`;
  for (const column of columns) {
    const inherited = parents.length > 0 && (!column.is_local || relation.is_partition);
    if (inherited && column.not_null && !parentColumns.some((p) => p.name === column.name && p.not_null)) {
      after.push(`ALTER TABLE ONLY ${relation.qname} ALTER COLUMN ${column.q} SET NOT NULL;`);
    }
    if (column.stat_target !== null) after.push(`ALTER TABLE ONLY ${relation.qname} ALTER COLUMN ${column.q} SET STATISTICS ${column.stat_target};`);
    if (column.storage && STORAGE[column.storage]) after.push(`ALTER TABLE ONLY ${relation.qname} ALTER COLUMN ${column.q} SET STORAGE ${STORAGE[column.storage]};`);
  }
  if (after.length) sql += `${after.join("\n")}\n`;
  sql += commentOn("TABLE", relation.qname, relation.comment);
  sql += columns.map((c) => commentOn("COLUMN", `${relation.qname}.${c.q}`, c.comment)).join("");
  sql += checks.filter((c) => c.is_local && c.validated).map((c) => commentOn("CONSTRAINT", `${c.q} ON ${relation.qname}`, c.comment)).join("");
  return sql;
}

function columnSql(relation: RelationRow, column: ColumnRow, identitySequences: Map<string, { relation: RelationRow; sequence: SequenceRow }>): string {
  let sql = `${column.q} ${column.type}`;
  if (column.collation) sql += ` COLLATE ${column.collation}`;
  if (column.generated === "s" && column.default_expr !== null) sql += ` GENERATED ALWAYS AS (${column.default_expr}) STORED`;
  if (column.identity) {
    const identity = identitySequences.get(`${relation.oid}:${column.num}`);
    const options = identity ? ` (\n        SEQUENCE NAME ${identity.relation.qname}\n        ${sequenceOptions(identity.sequence, false, "\n        ")}\n    )` : "";
    sql += ` GENERATED ${column.identity === "a" ? "ALWAYS" : "BY DEFAULT"} AS IDENTITY${options}`;
  }
  if (column.not_null) sql += " NOT NULL";
  return sql;
}

function sequenceOptions(sequence: SequenceRow, withType = true, separator = "\n    "): string {
  const parts = [
    ...(withType ? [`AS ${sequence.type}`] : []),
    `START WITH ${sequence.start}`,
    `INCREMENT BY ${sequence.increment}`,
    `MINVALUE ${sequence.min}`,
    `MAXVALUE ${sequence.max}`,
    `CACHE ${sequence.cache}`,
  ];
  if (sequence.cycle) parts.push("CYCLE");
  return parts.join(separator);
}
