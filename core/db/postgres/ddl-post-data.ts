import type { Catalog, RelationRow } from "./catalog.js";
import { DumpPlan, Rank, ref } from "./dump-plan.js";
import { commentOn } from "./sql-text.js";

const POLICY_COMMANDS: Record<string, string> = { r: "SELECT", a: "INSERT", w: "UPDATE", d: "DELETE", "*": "ALL" };
const TRIGGER_STATES: Record<string, string> = { D: "DISABLE TRIGGER", R: "ENABLE REPLICA TRIGGER", A: "ENABLE ALWAYS TRIGGER" };
const RULE_STATES: Record<string, string> = { D: "DISABLE RULE", R: "ENABLE REPLICA RULE", A: "ENABLE ALWAYS RULE" };

/**
 * What comes after the data: primary keys, unique and exclusion constraints, indexes (attached to
 * their partitioned parents the way pg_dump does), foreign keys, triggers, rules, row security,
 * statistics objects and the refresh of materialized views.
 */
export function planPostData(plan: DumpPlan, catalog: Catalog): void {
  const relations = new Map(catalog.relations.map((r) => [r.oid, r]));
  const indexes = new Map(catalog.indexes.map((i) => [i.oid, i]));
  const owned = (rel: number) => plan.items.has(ref("pg_class", rel)) ? relations.get(rel) : undefined;
  const title = (relation: RelationRow, name: string, type: string) => ({ name: `${relation.name} ${name}`, type, schema: relation.schema });

  for (const constraint of catalog.constraints) {
    const relation = owned(constraint.rel);
    if (!relation) continue;
    const key = ref("pg_constraint", constraint.oid);
    if (constraint.type === "c") {
      if (constraint.validated || !constraint.is_local) continue;
    }
    if (constraint.type === "f" && constraint.parent !== 0) {
      // A partition's copy of its parent's foreign key: created by the parent's.
      plan.own(key, ref("pg_constraint", constraint.parent));
      continue;
    }
    const foreignKey = constraint.type === "f";
    // ONLY is refused for a foreign key on a partitioned table; it applies to all partitions anyway.
    const only = foreignKey && relation.relkind === "p" ? "" : "ONLY ";
    const rank = foreignKey ? Rank.foreignKey : constraint.type === "c" ? Rank.deferredCheck : Rank.constraint;
    plan.add({
      key, section: "post", rank, sortKey: `${relation.qname}.${constraint.q}`,
      title: title(relation, constraint.name, foreignKey ? "FK CONSTRAINT" : "CONSTRAINT"),
      sql: `ALTER TABLE ${only}${relation.qname}\n    ADD CONSTRAINT ${constraint.q} ${constraint.def};\n${commentOn("CONSTRAINT", `${constraint.q} ON ${relation.qname}`, constraint.comment)}`,
      deps: [ref("pg_class", relation.oid)],
    });
    if (constraint.index_oid && constraint.type !== "f") {
      plan.own(ref("pg_class", constraint.index_oid), key);
      const index = indexes.get(constraint.index_oid);
      if (index?.comment) plan.items.get(key)!.sql += commentOn("INDEX", index.qname, index.comment);
    }
  }

  for (const index of catalog.indexes) {
    const relation = owned(index.rel);
    if (!relation) continue;
    if (index.constraint_oid === null) {
      plan.add({
        key: ref("pg_class", index.oid), section: "post", rank: Rank.index, sortKey: index.qname,
        title: { name: index.name, type: "INDEX", schema: relation.schema },
        sql: `${index.def};\n${commentOn("INDEX", index.qname, index.comment)}`,
        deps: [ref("pg_class", relation.oid), ref("pg_namespace", index.schema_oid)],
      });
    }
    if (index.parent_index !== null) {
      const parent = indexes.get(index.parent_index);
      if (!parent) continue;
      const attachKey = `attach:${index.oid}`;
      plan.add({
        key: attachKey, section: "post", rank: Rank.indexAttach, sortKey: index.qname,
        title: { name: index.name, type: "INDEX ATTACH", schema: relation.schema },
        sql: `ALTER INDEX ${parent.qname} ATTACH PARTITION ${index.qname};\n`,
      });
      plan.depend(attachKey, ref("pg_class", parent.oid));
      plan.depend(attachKey, ref("pg_class", index.oid));
    }
    if (index.clustered) {
      const key = `cluster:${index.oid}`;
      plan.add({ key, section: "post", rank: Rank.cluster, sortKey: index.qname, title: title(relation, index.name, "CLUSTER"),
        sql: `ALTER TABLE ONLY ${relation.qname} CLUSTER ON ${quoteLastPart(index.qname)};\n` });
      plan.depend(key, ref("pg_class", index.oid));
    }
  }

  for (const trigger of catalog.triggers) {
    const relation = owned(trigger.rel);
    if (!relation || trigger.parent !== 0) continue;
    const state = TRIGGER_STATES[trigger.enabled];
    plan.add({
      key: ref("pg_trigger", trigger.oid), section: "post", rank: Rank.trigger, sortKey: `${relation.qname}.${trigger.q}`,
      title: title(relation, trigger.name, "TRIGGER"),
      sql: `${trigger.def};\n${state ? `ALTER TABLE ${relation.qname} ${state} ${trigger.q};\n` : ""}${commentOn("TRIGGER", `${trigger.q} ON ${relation.qname}`, trigger.comment)}`,
      deps: [ref("pg_class", relation.oid)],
    });
  }

  for (const rule of catalog.rules) {
    const relation = owned(rule.rel);
    if (!relation) continue;
    const state = RULE_STATES[rule.enabled];
    plan.add({
      key: ref("pg_rewrite", rule.oid), section: "post", rank: Rank.rule, sortKey: `${relation.qname}.${rule.q}`,
      title: title(relation, rule.name, "RULE"),
      sql: `${rule.def.replace(/;?\s*$/, ";")}\n${state ? `ALTER TABLE ${relation.qname} ${state} ${rule.q};\n` : ""}${commentOn("RULE", `${rule.q} ON ${relation.qname}`, rule.comment)}`,
      deps: [ref("pg_class", relation.oid)],
    });
  }
  for (const viewRule of catalog.viewRules) plan.own(ref("pg_rewrite", viewRule.oid), ref("pg_class", viewRule.rel));

  for (const policy of catalog.policies) {
    const relation = owned(policy.rel);
    if (!relation) continue;
    let sql = `CREATE POLICY ${policy.q} ON ${relation.qname} AS ${policy.permissive ? "PERMISSIVE" : "RESTRICTIVE"} FOR ${POLICY_COMMANDS[policy.cmd] ?? "ALL"} TO ${policy.roles.join(", ")}`;
    if (policy.qual !== null) sql += ` USING (${policy.qual})`;
    if (policy.with_check !== null) sql += ` WITH CHECK (${policy.with_check})`;
    plan.add({
      key: ref("pg_policy", policy.oid), section: "post", rank: Rank.policy, sortKey: `${relation.qname}.${policy.q}`,
      title: title(relation, policy.name, "POLICY"),
      sql: `${sql};\n${commentOn("POLICY", `${policy.q} ON ${relation.qname}`, policy.comment)}`,
      deps: [ref("pg_class", relation.oid)],
    });
  }

  for (const relation of catalog.relations) {
    if (!owned(relation.oid)) continue;
    const tableKey = ref("pg_class", relation.oid);
    // Enabled after the data: with FORCE, row security would apply to the loading owner's COPY.
    if (relation.row_security || relation.force_row_security) {
      const statements = [
        ...(relation.row_security ? [`ALTER TABLE ${relation.qname} ENABLE ROW LEVEL SECURITY;`] : []),
        ...(relation.force_row_security ? [`ALTER TABLE ${relation.qname} FORCE ROW LEVEL SECURITY;`] : []),
      ];
      plan.add({ key: `rowsecurity:${relation.oid}`, section: "post", rank: Rank.rowSecurity, sortKey: relation.qname,
        title: { name: relation.name, type: "ROW SECURITY", schema: relation.schema }, sql: `${statements.join("\n")}\n`, deps: [tableKey] });
    }
    const identity = relation.replica_identity;
    if ((identity === "f" || identity === "n" || identity === "i") && (relation.relkind === "r" || relation.relkind === "p")) {
      const key = `replicaidentity:${relation.oid}`;
      const index = identity === "i" ? catalog.indexes.find((i) => i.rel === relation.oid && i.replica_identity) : undefined;
      if (identity === "i" && !index) continue;
      const clause = identity === "f" ? "FULL" : identity === "n" ? "NOTHING" : `USING INDEX ${quoteLastPart(index!.qname)}`;
      plan.add({ key, section: "post", rank: Rank.replicaIdentity, sortKey: relation.qname,
        title: { name: relation.name, type: "REPLICA IDENTITY", schema: relation.schema },
        sql: `ALTER TABLE ONLY ${relation.qname} REPLICA IDENTITY ${clause};\n`, deps: [tableKey] });
      if (index) plan.depend(key, ref("pg_class", index.oid));
    }
  }

  for (const statistics of catalog.statistics) {
    const relation = owned(statistics.rel);
    if (!relation) continue;
    plan.add({
      key: ref("pg_statistic_ext", statistics.oid), section: "post", rank: Rank.statistics, sortKey: statistics.qname,
      title: { name: statistics.name, type: "STATISTICS", schema: relation.schema },
      sql: `${statistics.def};\n${commentOn("STATISTICS", statistics.qname, statistics.comment)}`,
      deps: [ref("pg_class", relation.oid), ref("pg_namespace", statistics.schema_oid)],
    });
  }
}

/**
 * Adds `REFRESH MATERIALIZED VIEW` for every populated materialized view, after everything else and
 * after the refreshes of the materialized views it reads (directly or through views). Needs the
 * dependency edges, so it runs once they are in.
 */
export function planRefreshes(plan: DumpPlan, catalog: Catalog): void {
  const materialized = new Map(catalog.relations.filter((r) => r.relkind === "m").map((r) => [ref("pg_class", r.oid), r]));
  for (const [key, relation] of materialized) {
    if (!relation.populated || !plan.items.has(key)) continue;
    const reads = new Set<string>();
    const seen = new Set<string>([key]);
    const stack = [...plan.items.get(key)!.deps];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      if (materialized.has(next)) reads.add(`refresh:${next}`);
      else stack.push(...(plan.items.get(next)?.deps ?? []));
    }
    plan.add({
      key: `refresh:${key}`, section: "post", rank: Rank.refresh, sortKey: relation.qname,
      title: { name: relation.name, type: "MATERIALIZED VIEW DATA", schema: relation.schema },
      sql: `REFRESH MATERIALIZED VIEW ${relation.qname};\n`,
      deps: [key, ...[...reads].filter((r) => materialized.get(r.slice("refresh:".length))?.populated)],
    });
  }
}

/** `schema.name` to `name`: ALTER TABLE ... CLUSTER ON and REPLICA IDENTITY take an unqualified index name. */
function quoteLastPart(qualified: string): string {
  let inQuotes = false;
  let lastDot = -1;
  for (let i = 0; i < qualified.length; i++) {
    if (qualified[i] === '"') inQuotes = !inQuotes;
    else if (qualified[i] === "." && !inQuotes) lastDot = i;
  }
  return qualified.slice(lastDot + 1);
}
