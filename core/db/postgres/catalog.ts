import type { PostgresSession } from "./session.js";

/**
 * What the dump reads from the system catalogs. Every query runs inside the dump's snapshot with
 * `search_path` empty, so the server's deparse functions (`pg_get_*def`, `format_type`, `regproc`)
 * schema-qualify every name they print and the text is valid wherever it is replayed.
 */
export interface Catalog {
  schemas: SchemaRow[];
  extensions: ExtensionRow[];
  collations: CollationRow[];
  types: TypeRow[];
  enumLabels: EnumLabelRow[];
  compositeAttributes: CompositeAttributeRow[];
  domainConstraints: DomainConstraintRow[];
  ranges: RangeRow[];
  functions: FunctionRow[];
  aggregates: AggregateRow[];
  relations: RelationRow[];
  sequences: SequenceRow[];
  columns: ColumnRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  triggers: TriggerRow[];
  rules: RuleRow[];
  viewRules: ViewRuleRow[];
  policies: PolicyRow[];
  statistics: StatisticsRow[];
  dependencies: DependencyRow[];
  extensionMembers: ExtensionMemberRow[];
  typeLinks: TypeLinkRow[];
  unsupported: UnsupportedRow[];
  hasPrivileges: boolean;
}

type Oid = number;

export interface SchemaRow { oid: Oid; name: string; q: string; comment: string | null }
export interface ExtensionRow { oid: Oid; name: string; q: string; schema_oid: Oid; schema_q: string }
export interface CollationRow { oid: Oid; schema_oid: Oid; name: string; qname: string; details: Record<string, unknown>; comment: string | null }
export interface TypeRow {
  oid: Oid; schema_oid: Oid; name: string; qname: string; typtype: string; typrelid: Oid;
  base_type: string | null; not_null: boolean; default_expr: string | null; collation: string | null; comment: string | null;
}
export interface EnumLabelRow { type_oid: Oid; label: string }
export interface CompositeAttributeRow { type_oid: Oid; q: string; type: string; collation: string | null; comment: string | null }
export interface DomainConstraintRow { oid: Oid; type_oid: Oid; q: string; def: string; validated: boolean; comment: string | null }
export interface RangeRow {
  type_oid: Oid; subtype: string; opclass: string | null; collation: string | null;
  canonical: string | null; subdiff: string | null; multirange: string | null;
}
export interface FunctionRow {
  oid: Oid; schema_oid: Oid; name: string; qname: string; prokind: string; identity_args: string; def: string | null; comment: string | null;
}
export interface AggregateRow {
  oid: Oid; aggkind: string; sfunc: string; stype: string; sspace: number; finalfunc: string | null; finalextra: boolean;
  combinefunc: string | null; serialfunc: string | null; deserialfunc: string | null; initcond: string | null;
  sortop: string | null; parallel: string; moving: boolean;
}
export interface RelationRow {
  oid: Oid; schema_oid: Oid; schema: string; name: string; qname: string; relkind: string; persistence: string;
  is_partition: boolean; partition_bound: string | null; partition_key: string | null; options: string[] | null;
  row_security: boolean; force_row_security: boolean; replica_identity: string; typed: boolean;
  view_def: string | null; populated: boolean; parents: string[]; access_method: string | null; comment: string | null;
}
export interface SequenceRow {
  oid: Oid; type: string; start: string; increment: string; max: string; min: string; cache: string; cycle: boolean;
  owner_table: Oid | null; owner_column: number | null; owner_deptype: string | null;
}
export interface ColumnRow {
  rel: Oid; num: number; name: string; q: string; type: string; not_null: boolean; identity: string; generated: string;
  is_local: boolean; collation: string | null; stat_target: number | null; storage: string | null;
  default_oid: Oid | null; default_expr: string | null; comment: string | null;
}
export interface ConstraintRow {
  oid: Oid; rel: Oid; name: string; q: string; type: string; def: string; validated: boolean; is_local: boolean;
  index_oid: Oid; parent: Oid; comment: string | null;
}
export interface IndexRow {
  oid: Oid; rel: Oid; schema_oid: Oid; name: string; qname: string; def: string; clustered: boolean; replica_identity: boolean;
  constraint_oid: Oid | null; parent_index: Oid | null; comment: string | null;
}
export interface TriggerRow { oid: Oid; rel: Oid; name: string; q: string; def: string; enabled: string; parent: Oid; comment: string | null }
export interface RuleRow { oid: Oid; rel: Oid; name: string; q: string; def: string; enabled: string; comment: string | null }
export interface ViewRuleRow { oid: Oid; rel: Oid }
export interface PolicyRow {
  oid: Oid; rel: Oid; name: string; q: string; cmd: string; permissive: boolean; roles: string[];
  qual: string | null; with_check: string | null; comment: string | null;
}
export interface StatisticsRow { oid: Oid; rel: Oid; schema_oid: Oid; name: string; qname: string; def: string; comment: string | null }
export interface DependencyRow { class: string; objid: Oid; refclass: string; refobjid: Oid; deptype: string }
export interface ExtensionMemberRow { class: string; objid: Oid; extension: Oid }
/** How a type that is not dumped on its own (row type, array, multirange) leads to the object that creates it. */
export interface TypeLinkRow { oid: Oid; rel: Oid; array_of: Oid | null; multirange_of: Oid | null }
export interface UnsupportedRow { kind: string; count: number }

/** Schemas a dump covers: everything but the system's own and other sessions' temporary schemas. */
const USER_SCHEMA = (column: string) =>
  `${column} IN (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname !~ '^pg_(toast_)?temp_')`;

const QUALIFIED = (schemaOid: string, name: string) =>
  `(SELECT pg_catalog.quote_ident(nspname) FROM pg_catalog.pg_namespace WHERE oid = ${schemaOid}) || '.' || pg_catalog.quote_ident(${name})`;

const COLLATION_NAME = (oid: string) =>
  `(SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = ${oid})`;

const NOT_EXTENSION_MEMBER = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xd WHERE xd.classid = '${catalog}'::pg_catalog.regclass AND xd.objid = ${oid} AND xd.deptype = 'e')`;

export async function readCatalog(session: PostgresSession, serverVersionNumber: number): Promise<Catalog> {
  const rows = async <T>(sql: string): Promise<T[]> => (await session.query(sql)).rows as T[];
  const v14 = serverVersionNumber >= 140000;
  const v13 = serverVersionNumber >= 130000;

  const schemas = await rows<SchemaRow>(`
    SELECT n.oid, n.nspname AS name, pg_catalog.quote_ident(n.nspname) AS q, pg_catalog.obj_description(n.oid, 'pg_namespace') AS comment
    FROM pg_catalog.pg_namespace n
    WHERE ${USER_SCHEMA("n.oid")} AND ${NOT_EXTENSION_MEMBER("pg_namespace", "n.oid")}
    ORDER BY n.nspname`);

  const extensions = await rows<ExtensionRow>(`
    SELECT e.oid, e.extname AS name, pg_catalog.quote_ident(e.extname) AS q, e.extnamespace AS schema_oid, pg_catalog.quote_ident(n.nspname) AS schema_q
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname <> 'plpgsql'
    ORDER BY e.extname`);

  const collations = await rows<CollationRow>(`
    SELECT c.oid, c.collnamespace AS schema_oid, c.collname AS name, ${QUALIFIED("c.collnamespace", "c.collname")} AS qname,
      pg_catalog.to_jsonb(c) AS details, pg_catalog.obj_description(c.oid, 'pg_collation') AS comment
    FROM pg_catalog.pg_collation c
    WHERE ${USER_SCHEMA("c.collnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_collation", "c.oid")}`);

  const types = await rows<TypeRow>(`
    SELECT t.oid, t.typnamespace AS schema_oid, t.typname AS name, ${QUALIFIED("t.typnamespace", "t.typname")} AS qname, t.typtype, t.typrelid,
      CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base_type,
      t.typnotnull AS not_null, pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS default_expr,
      CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = t.typbasetype)
        THEN ${COLLATION_NAME("t.typcollation")} END AS collation,
      pg_catalog.obj_description(t.oid, 'pg_type') AS comment
    FROM pg_catalog.pg_type t
    WHERE ${USER_SCHEMA("t.typnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_type", "t.oid")}
      AND (t.typtype IN ('e', 'd', 'r', 'b', 'p') OR (t.typtype = 'c' AND (SELECT r.relkind FROM pg_catalog.pg_class r WHERE r.oid = t.typrelid) = 'c'))
      AND NOT (t.typtype = 'b' AND t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid))
    ORDER BY t.oid`);

  const enumLabels = await rows<EnumLabelRow>(`
    SELECT e.enumtypid AS type_oid, pg_catalog.quote_literal(e.enumlabel) AS label
    FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
    WHERE ${USER_SCHEMA("t.typnamespace")}
    ORDER BY e.enumtypid, e.enumsortorder`);

  const compositeAttributes = await rows<CompositeAttributeRow>(`
    SELECT t.oid AS type_oid, pg_catalog.quote_ident(a.attname) AS q, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
      CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = a.atttypid)
        THEN ${COLLATION_NAME("a.attcollation")} END AS collation,
      pg_catalog.col_description(a.attrelid, a.attnum) AS comment
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE ${USER_SCHEMA("t.typnamespace")}
    ORDER BY t.oid, a.attnum`);

  const domainConstraints = await rows<DomainConstraintRow>(`
    SELECT c.oid, c.contypid AS type_oid, pg_catalog.quote_ident(c.conname) AS q, pg_catalog.pg_get_constraintdef(c.oid) AS def,
      c.convalidated AS validated, pg_catalog.obj_description(c.oid, 'pg_constraint') AS comment
    FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_type t ON t.oid = c.contypid
    WHERE c.contype = 'c' AND ${USER_SCHEMA("t.typnamespace")}
    ORDER BY c.contypid, c.conname`);

  const ranges = await rows<RangeRow>(`
    SELECT r.rngtypid AS type_oid, pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
      CASE WHEN NOT o.opcdefault THEN ${QUALIFIED("o.opcnamespace", "o.opcname")} END AS opclass,
      CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = r.rngsubtype)
        THEN ${COLLATION_NAME("r.rngcollation")} END AS collation,
      CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::pg_catalog.regproc::text END AS canonical,
      CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::pg_catalog.regproc::text END AS subdiff,
      ${v14 ? `(SELECT ${QUALIFIED("m.typnamespace", "m.typname")} FROM pg_catalog.pg_type m WHERE m.oid = r.rngmultitypid)` : "NULL"} AS multirange
    FROM pg_catalog.pg_range r JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid JOIN pg_catalog.pg_opclass o ON o.oid = r.rngsubopc
    WHERE ${USER_SCHEMA("t.typnamespace")}`);

  const functions = await rows<FunctionRow>(`
    SELECT p.oid, p.pronamespace AS schema_oid, p.proname AS name, ${QUALIFIED("p.pronamespace", "p.proname")} AS qname, p.prokind,
      pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
      CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END AS def,
      pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
    FROM pg_catalog.pg_proc p
    WHERE ${USER_SCHEMA("p.pronamespace")} AND ${NOT_EXTENSION_MEMBER("pg_proc", "p.oid")}
      -- Range and multirange constructors are created with their type.
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'i')
    ORDER BY p.oid`);

  const aggregates = await rows<AggregateRow>(`
    SELECT a.aggfnoid::pg_catalog.oid AS oid, a.aggkind, a.aggtransfn::pg_catalog.regproc::text AS sfunc,
      pg_catalog.format_type(a.aggtranstype, NULL) AS stype, a.aggtransspace AS sspace,
      CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::pg_catalog.regproc::text END AS finalfunc, a.aggfinalextra AS finalextra,
      CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::pg_catalog.regproc::text END AS combinefunc,
      CASE WHEN a.aggserialfn <> 0 THEN a.aggserialfn::pg_catalog.regproc::text END AS serialfunc,
      CASE WHEN a.aggdeserialfn <> 0 THEN a.aggdeserialfn::pg_catalog.regproc::text END AS deserialfunc,
      a.agginitval AS initcond,
      CASE WHEN a.aggsortop <> 0 THEN (SELECT 'OPERATOR(' || pg_catalog.quote_ident(n.nspname) || '.' || o.oprname || ')'
        FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace WHERE o.oid = a.aggsortop) END AS sortop,
      p.proparallel AS parallel, a.aggmtransfn <> 0 AS moving
    FROM pg_catalog.pg_aggregate a JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
    WHERE ${USER_SCHEMA("p.pronamespace")} AND ${NOT_EXTENSION_MEMBER("pg_proc", "p.oid")}`);

  const relations = await rows<RelationRow>(`
    SELECT c.oid, c.relnamespace AS schema_oid, n.nspname AS schema, c.relname AS name,
      pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS qname,
      c.relkind, c.relpersistence AS persistence, c.relispartition AS is_partition,
      CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
      CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
      c.reloptions AS options, c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
      c.relreplident AS replica_identity, c.reloftype <> 0 AS typed,
      CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS view_def,
      c.relispopulated AS populated,
      ARRAY(SELECT i.inhparent::pg_catalog.text FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
      CASE WHEN am.amname IS NOT NULL AND am.amname <> 'heap' THEN pg_catalog.quote_ident(am.amname) END AS access_method,
      pg_catalog.obj_description(c.oid, 'pg_class') AS comment
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_SCHEMA("c.relnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_class", "c.oid")}
    ORDER BY n.nspname, c.relname`);

  const sequences = await rows<SequenceRow>(`
    SELECT s.seqrelid AS oid, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS increment,
      s.seqmax::text AS max, s.seqmin::text AS min, s.seqcache::text AS cache, s.seqcycle AS cycle,
      d.refobjid AS owner_table, d.refobjsubid AS owner_column, d.deptype AS owner_deptype
    FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
      LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::pg_catalog.regclass AND d.objid = s.seqrelid
        AND d.refclassid = 'pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
    WHERE ${USER_SCHEMA("c.relnamespace")}`);

  const columns = await rows<ColumnRow>(`
    SELECT a.attrelid AS rel, a.attnum AS num, a.attname AS name, pg_catalog.quote_ident(a.attname) AS q,
      pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, a.attidentity AS identity,
      a.attgenerated AS generated, a.attislocal AS is_local,
      CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN ${COLLATION_NAME("a.attcollation")} END AS collation,
      CASE WHEN COALESCE(a.attstattarget, -1) >= 0 THEN a.attstattarget END AS stat_target,
      CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END AS storage,
      d.oid AS default_oid, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr,
      pg_catalog.col_description(a.attrelid, a.attnum) AS comment
    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${USER_SCHEMA("c.relnamespace")}
    ORDER BY a.attrelid, a.attnum`);

  const constraints = await rows<ConstraintRow>(`
    SELECT co.oid, co.conrelid AS rel, co.conname AS name, pg_catalog.quote_ident(co.conname) AS q, co.contype AS type,
      pg_catalog.pg_get_constraintdef(co.oid) AS def, co.convalidated AS validated, co.conislocal AS is_local,
      co.conindid AS index_oid, co.conparentid AS parent, pg_catalog.obj_description(co.oid, 'pg_constraint') AS comment
    FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
    WHERE co.contype IN ('c', 'p', 'u', 'f', 'x') AND ${USER_SCHEMA("c.relnamespace")}
    ORDER BY co.conrelid, co.conname`);

  const indexes = await rows<IndexRow>(`
    SELECT i.indexrelid AS oid, i.indrelid AS rel, ic.relnamespace AS schema_oid, ic.relname AS name,
      ${QUALIFIED("ic.relnamespace", "ic.relname")} AS qname, pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
      i.indisclustered AS clustered, i.indisreplident AS replica_identity,
      (SELECT co.oid FROM pg_catalog.pg_constraint co WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x')) AS constraint_oid,
      (SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid) AS parent_index,
      pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
    WHERE tc.relkind IN ('r', 'p', 'm') AND ${USER_SCHEMA("tc.relnamespace")}
    ORDER BY i.indexrelid`);

  const triggers = await rows<TriggerRow>(`
    SELECT t.oid, t.tgrelid AS rel, t.tgname AS name, pg_catalog.quote_ident(t.tgname) AS q, pg_catalog.pg_get_triggerdef(t.oid) AS def,
      t.tgenabled AS enabled, ${v13 ? "t.tgparentid" : "0"} AS parent, pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
    FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND ${USER_SCHEMA("c.relnamespace")}`);

  const rules = await rows<RuleRow>(`
    SELECT r.oid, r.ev_class AS rel, r.rulename AS name, pg_catalog.quote_ident(r.rulename) AS q, pg_catalog.pg_get_ruledef(r.oid) AS def,
      r.ev_enabled AS enabled, pg_catalog.obj_description(r.oid, 'pg_rewrite') AS comment
    FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
    WHERE r.rulename <> '_RETURN' AND ${USER_SCHEMA("c.relnamespace")}`);

  const viewRules = await rows<ViewRuleRow>(`
    SELECT r.oid, r.ev_class AS rel FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
    WHERE r.rulename = '_RETURN' AND ${USER_SCHEMA("c.relnamespace")}`);

  const policies = await rows<PolicyRow>(`
    SELECT p.oid, p.polrelid AS rel, p.polname AS name, pg_catalog.quote_ident(p.polname) AS q, p.polcmd AS cmd, p.polpermissive AS permissive,
      ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END FROM pg_catalog.unnest(p.polroles) r) AS roles,
      pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
      pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
    FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
    WHERE ${USER_SCHEMA("c.relnamespace")}`);

  const statistics = await rows<StatisticsRow>(`
    SELECT s.oid, s.stxrelid AS rel, s.stxnamespace AS schema_oid, s.stxname AS name, ${QUALIFIED("s.stxnamespace", "s.stxname")} AS qname,
      pg_catalog.pg_get_statisticsobjdef(s.oid) AS def, pg_catalog.obj_description(s.oid, 'pg_statistic_ext') AS comment
    FROM pg_catalog.pg_statistic_ext s
    WHERE ${USER_SCHEMA("s.stxnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_statistic_ext", "s.oid")}`);

  // Objects below 16384 belong to the system and are never dumped, so neither end of such a dependency matters.
  const dependencies = await rows<DependencyRow>(`
    SELECT d.classid::pg_catalog.regclass::text AS class, d.objid, d.refclassid::pg_catalog.regclass::text AS refclass, d.refobjid, d.deptype
    FROM pg_catalog.pg_depend d
    WHERE d.deptype IN ('n', 'a', 'i') AND d.objid >= 16384 AND d.refobjid >= 16384`);

  const extensionMembers = await rows<ExtensionMemberRow>(`
    SELECT d.classid::pg_catalog.regclass::text AS class, d.objid, d.refobjid AS extension
    FROM pg_catalog.pg_depend d WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::pg_catalog.regclass`);

  const typeLinks = await rows<TypeLinkRow>(`
    SELECT t.oid, t.typrelid AS rel, (SELECT e.oid FROM pg_catalog.pg_type e WHERE e.typarray = t.oid) AS array_of,
      ${v14 ? "(SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid)" : "NULL::pg_catalog.oid"} AS multirange_of
    FROM pg_catalog.pg_type t
    WHERE ${USER_SCHEMA("t.typnamespace")} AND (t.typrelid <> 0 OR t.typcategory = 'A' OR t.typtype = 'm')`);

  const unsupported = await rows<UnsupportedRow>(unsupportedQuery());

  const privileges = await rows<{ found: boolean }>(`
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relacl IS NOT NULL AND ${USER_SCHEMA("c.relnamespace")})
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.proacl IS NOT NULL AND ${USER_SCHEMA("p.pronamespace")})
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typacl IS NOT NULL AND ${USER_SCHEMA("t.typnamespace")})
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspacl IS NOT NULL AND n.nspname <> 'public' AND ${USER_SCHEMA("n.oid")})
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_default_acl) AS found`);

  return {
    schemas, extensions, collations, types, enumLabels, compositeAttributes, domainConstraints, ranges, functions, aggregates,
    relations, sequences, columns, constraints, indexes, triggers, rules, viewRules, policies, statistics, dependencies,
    extensionMembers, typeLinks, unsupported: unsupported.filter((u) => Number(u.count) > 0), hasPrivileges: privileges[0]?.found ?? false,
  };
}

/** Object kinds the dump does not recreate; each one present becomes a warning in the summary. */
function unsupportedQuery(): string {
  const kinds: Array<[string, string]> = [
    ["operators", `SELECT count(*) FROM pg_catalog.pg_operator o WHERE o.oid >= 16384 AND ${USER_SCHEMA("o.oprnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_operator", "o.oid")}`],
    ["operator classes or families", `SELECT count(*) FROM pg_catalog.pg_opfamily o WHERE o.oid >= 16384 AND ${USER_SCHEMA("o.opfnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_opfamily", "o.oid")}`],
    ["casts", `SELECT count(*) FROM pg_catalog.pg_cast c WHERE c.oid >= 16384 AND ${NOT_EXTENSION_MEMBER("pg_cast", "c.oid")}
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_cast'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'i')`],
    ["text search configurations or dictionaries", `SELECT (SELECT count(*) FROM pg_catalog.pg_ts_config c WHERE c.oid >= 16384 AND ${NOT_EXTENSION_MEMBER("pg_ts_config", "c.oid")}) + (SELECT count(*) FROM pg_catalog.pg_ts_dict d WHERE d.oid >= 16384 AND ${NOT_EXTENSION_MEMBER("pg_ts_dict", "d.oid")})`],
    ["foreign servers", `SELECT count(*) FROM pg_catalog.pg_foreign_server s WHERE ${NOT_EXTENSION_MEMBER("pg_foreign_server", "s.oid")}`],
    ["event triggers", `SELECT count(*) FROM pg_catalog.pg_event_trigger e WHERE ${NOT_EXTENSION_MEMBER("pg_event_trigger", "e.oid")}`],
    ["publications", `SELECT count(*) FROM pg_catalog.pg_publication`],
    ["large objects", `SELECT count(*) FROM pg_catalog.pg_largeobject_metadata`],
    ["procedural languages other than plpgsql", `SELECT count(*) FROM pg_catalog.pg_language l WHERE l.oid >= 16384 AND l.lanname <> 'plpgsql' AND ${NOT_EXTENSION_MEMBER("pg_language", "l.oid")}`],
    ["conversions", `SELECT count(*) FROM pg_catalog.pg_conversion c WHERE c.oid >= 16384 AND ${NOT_EXTENSION_MEMBER("pg_conversion", "c.oid")}`],
    ["base or shell types", `SELECT count(*) FROM pg_catalog.pg_type t WHERE t.typtype IN ('b', 'p') AND t.typelem = 0 AND ${USER_SCHEMA("t.typnamespace")} AND ${NOT_EXTENSION_MEMBER("pg_type", "t.oid")}`],
    ["typed tables (CREATE TABLE ... OF type; dumped as ordinary tables)", `SELECT count(*) FROM pg_catalog.pg_class c WHERE c.reloftype <> 0 AND ${USER_SCHEMA("c.relnamespace")}`],
  ];
  return kinds.map(([kind, sql]) => `SELECT '${kind}' AS kind, (${sql})::int AS count`).join("\nUNION ALL\n");
}
