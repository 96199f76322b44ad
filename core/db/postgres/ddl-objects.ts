import type { Catalog, TypeRow } from "./catalog.js";
import { DumpPlan, Rank, ref } from "./dump-plan.js";
import { commentOn, literal } from "./sql-text.js";

const DEFAULT_PUBLIC_COMMENT = "standard public schema";

/** Schemas, extensions, collations, types, functions and aggregates: the objects tables are built from. */
export function planObjects(plan: DumpPlan, catalog: Catalog): void {
  const schemaName = new Map(catalog.schemas.map((s) => [s.oid, s.name]));
  const inSchema = (oid: number) => [ref("pg_namespace", oid)];

  for (const schema of catalog.schemas) {
    // Every new database has `public`; recreating it would change its owner and privileges.
    const sql = schema.name === "public"
      ? schema.comment === DEFAULT_PUBLIC_COMMENT ? "" : commentOn("SCHEMA", schema.q, schema.comment)
      : `CREATE SCHEMA ${schema.q};\n${commentOn("SCHEMA", schema.q, schema.comment)}`;
    plan.add({ key: ref("pg_namespace", schema.oid), section: "pre", rank: Rank.schema, sortKey: schema.name, title: { name: schema.name, type: "SCHEMA" }, sql });
  }

  for (const extension of catalog.extensions) {
    plan.add({
      key: ref("pg_extension", extension.oid), section: "pre", rank: Rank.extension, sortKey: extension.name,
      title: { name: extension.name, type: "EXTENSION" },
      sql: `CREATE EXTENSION IF NOT EXISTS ${extension.q} WITH SCHEMA ${extension.schema_q};\n`,
      deps: inSchema(extension.schema_oid),
    });
  }

  for (const collation of catalog.collations) {
    const d = collation.details as Record<string, string | boolean | null>;
    const options: string[] = [];
    const locale = (d.colllocale ?? d.colliculocale ?? null) as string | null;
    if (d.collprovider === "i") {
      options.push("provider = icu", `locale = ${literal(locale ?? String(d.collcollate ?? ""))}`);
      if (d.collicurules) options.push(`rules = ${literal(String(d.collicurules))}`);
    } else if (d.collprovider === "b") {
      options.push("provider = builtin", `locale = ${literal(locale ?? "")}`);
    } else {
      options.push("provider = libc", `lc_collate = ${literal(String(d.collcollate ?? ""))}`, `lc_ctype = ${literal(String(d.collctype ?? ""))}`);
    }
    if (d.collisdeterministic === false) options.push("deterministic = false");
    plan.add({
      key: ref("pg_collation", collation.oid), section: "pre", rank: Rank.collation, sortKey: collation.qname,
      title: { name: collation.name, type: "COLLATION", schema: schemaName.get(collation.schema_oid) },
      sql: `CREATE COLLATION ${collation.qname} (${options.join(", ")});\n${commentOn("COLLATION", collation.qname, collation.comment)}`,
      deps: inSchema(collation.schema_oid),
    });
  }

  planTypes(plan, catalog, schemaName);
  planFunctions(plan, catalog, schemaName);
}

function planTypes(plan: DumpPlan, catalog: Catalog, schemaName: Map<number, string>): void {
  const labels = groupBy(catalog.enumLabels, (l) => l.type_oid);
  const attributes = groupBy(catalog.compositeAttributes, (a) => a.type_oid);
  const domainChecks = groupBy(catalog.domainConstraints, (c) => c.type_oid);
  const ranges = new Map(catalog.ranges.map((r) => [r.type_oid, r]));

  for (const type of catalog.types) {
    const title = (kind: string) => ({ name: type.name, type: kind, schema: schemaName.get(type.schema_oid) });
    const base = { key: ref("pg_type", type.oid), section: "pre" as const, rank: Rank.type, sortKey: type.qname, deps: [ref("pg_namespace", type.schema_oid)] };
    switch (type.typtype) {
      case "e": {
        const values = (labels.get(type.oid) ?? []).map((l) => `\n    ${l.label}`).join(",");
        plan.add({ ...base, title: title("TYPE"), sql: `CREATE TYPE ${type.qname} AS ENUM (${values}${values ? "\n" : ""});\n${commentOn("TYPE", type.qname, type.comment)}` });
        break;
      }
      case "c": {
        const attrs = attributes.get(type.oid) ?? [];
        const list = attrs.map((a) => `\n    ${a.q} ${a.type}${a.collation ? ` COLLATE ${a.collation}` : ""}`).join(",");
        const comments = attrs.map((a) => commentOn("COLUMN", `${type.qname}.${a.q}`, a.comment)).join("");
        plan.add({ ...base, title: title("TYPE"), sql: `CREATE TYPE ${type.qname} AS (${list}${list ? "\n" : ""});\n${commentOn("TYPE", type.qname, type.comment)}${comments}` });
        plan.own(ref("pg_class", type.typrelid), base.key);
        break;
      }
      case "d":
        planDomain(plan, base, title("DOMAIN"), type, domainChecks.get(type.oid) ?? []);
        break;
      case "r": {
        const range = ranges.get(type.oid);
        if (!range) break;
        const options = [`subtype = ${range.subtype}`];
        if (range.opclass) options.push(`subtype_opclass = ${range.opclass}`);
        if (range.collation) options.push(`collation = ${range.collation}`);
        if (range.subdiff) options.push(`subtype_diff = ${range.subdiff}`);
        if (range.multirange) options.push(`multirange_type_name = ${range.multirange}`);
        if (range.canonical) plan.warnings.push(`Range type ${type.qname} has a canonical function; it is dumped without it (such functions must be written in C).`);
        plan.add({ ...base, title: title("TYPE"), sql: `CREATE TYPE ${type.qname} AS RANGE (\n    ${options.join(",\n    ")}\n);\n${commentOn("TYPE", type.qname, type.comment)}` });
        break;
      }
      default:
        // Base and shell types need C functions; they are counted among the unsupported objects.
        break;
    }
  }
}

function planDomain(
  plan: DumpPlan,
  base: { key: string; section: "pre"; rank: number; sortKey: string; deps: string[] },
  title: { name: string; type: string; schema?: string },
  type: TypeRow,
  checks: Catalog["domainConstraints"],
): void {
  let sql = `CREATE DOMAIN ${type.qname} AS ${type.base_type}`;
  if (type.collation) sql += ` COLLATE ${type.collation}`;
  if (type.default_expr !== null) sql += ` DEFAULT ${type.default_expr}`;
  if (type.not_null) sql += " NOT NULL";
  for (const check of checks.filter((c) => c.validated)) sql += `\n    CONSTRAINT ${check.q} ${check.def}`;
  sql += `;\n${commentOn("DOMAIN", type.qname, type.comment)}`;
  for (const check of checks) {
    if (!check.validated) continue;
    sql += commentOn("CONSTRAINT", `${check.q} ON DOMAIN ${type.qname}`, check.comment);
    plan.own(ref("pg_constraint", check.oid), base.key);
  }
  plan.add({ ...base, title, sql });
  // A constraint added NOT VALID is kept that way: existing values were never checked against it.
  for (const check of checks.filter((c) => !c.validated)) {
    const key = ref("pg_constraint", check.oid);
    plan.add({
      key, section: "post", rank: Rank.deferredCheck, sortKey: `${type.qname}.${check.q}`,
      title: { name: `${type.name} ${check.q}`, type: "CHECK CONSTRAINT", schema: title.schema },
      sql: `ALTER DOMAIN ${type.qname} ADD CONSTRAINT ${check.q} ${check.def};\n${commentOn("CONSTRAINT", `${check.q} ON DOMAIN ${type.qname}`, check.comment)}`,
      deps: [base.key],
    });
  }
}

function planFunctions(plan: DumpPlan, catalog: Catalog, schemaName: Map<number, string>): void {
  const aggregates = new Map(catalog.aggregates.map((a) => [a.oid, a]));
  for (const fn of catalog.functions) {
    const signature = `${fn.qname}(${fn.identity_args})`;
    const key = ref("pg_proc", fn.oid);
    const common = { key, section: "pre" as const, sortKey: signature, deps: [ref("pg_namespace", fn.schema_oid)] };
    const schema = schemaName.get(fn.schema_oid);
    if (fn.prokind === "a") {
      const agg = aggregates.get(fn.oid);
      if (!agg) continue;
      if (agg.aggkind !== "n" || agg.moving) {
        plan.warnings.push(`Aggregate ${signature} is an ordered-set or moving aggregate; it is not included in the dump.`);
        continue;
      }
      const options = [`SFUNC = ${agg.sfunc}`, `STYPE = ${agg.stype}`];
      if (agg.sspace) options.push(`SSPACE = ${agg.sspace}`);
      if (agg.finalfunc) options.push(`FINALFUNC = ${agg.finalfunc}`);
      if (agg.finalextra) options.push("FINALFUNC_EXTRA");
      if (agg.combinefunc) options.push(`COMBINEFUNC = ${agg.combinefunc}`);
      if (agg.serialfunc) options.push(`SERIALFUNC = ${agg.serialfunc}`);
      if (agg.deserialfunc) options.push(`DESERIALFUNC = ${agg.deserialfunc}`);
      if (agg.initcond !== null) options.push(`INITCOND = ${literal(agg.initcond)}`);
      if (agg.sortop) options.push(`SORTOP = ${agg.sortop}`);
      if (agg.parallel === "s") options.push("PARALLEL = SAFE");
      if (agg.parallel === "r") options.push("PARALLEL = RESTRICTED");
      plan.add({
        ...common, rank: Rank.aggregate, title: { name: `${fn.name}(${fn.identity_args})`, type: "AGGREGATE", schema },
        sql: `CREATE AGGREGATE ${signature} (\n    ${options.join(",\n    ")}\n);\n${commentOn("AGGREGATE", signature, fn.comment)}`,
      });
      continue;
    }
    if (fn.def === null) continue;
    const kind = fn.prokind === "p" ? "PROCEDURE" : "FUNCTION";
    plan.add({
      ...common, rank: Rank.function, title: { name: `${fn.name}(${fn.identity_args})`, type: kind, schema },
      sql: `${fn.def.replace(/\s+$/, "")};\n${commentOn(kind, signature, fn.comment)}`,
    });
  }
}

export function groupBy<T, K>(values: readonly T[], keyOf: (value: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group) group.push(value);
    else groups.set(key, [value]);
  }
  return groups;
}
