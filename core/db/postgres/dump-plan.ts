import type { Catalog } from "./catalog.js";

/**
 * Pre-data runs before the table data, post-data after it: indexes, constraints and triggers
 * are created once the rows are in, which is both faster and keeps triggers from firing on them.
 */
export type Section = "pre" | "post";

/** Kind order inside a section when dependencies leave a choice (pg_dump's order, roughly). */
export const Rank = {
  schema: 1, extension: 2, collation: 3, type: 4, function: 5, aggregate: 6, sequence: 7, table: 8, view: 9,
  default: 10,
  constraint: 20, index: 21, indexAttach: 22, deferredCheck: 23, foreignKey: 24, trigger: 25, rule: 26,
  policy: 27, rowSecurity: 28, replicaIdentity: 29, cluster: 30, statistics: 31, refresh: 40,
} as const;

export interface DumpItem {
  key: string;
  section: Section;
  rank: number;
  /** Tie-breaker after rank, so the output order is stable. */
  sortKey: string;
  /** Shown in the dump's `-- Name: ...; Type: ...` header line. */
  title: { name: string; type: string; schema?: string };
  sql: string;
  deps: Set<string>;
}

/** A catalog object as `pg_class:16402`, the form pg_depend rows are matched against. */
export const ref = (catalog: string, oid: number | string) => `${catalog}:${oid}`;

/** The items of a dump and which item creates each catalog object, so pg_depend rows can order them. */
export class DumpPlan {
  readonly items = new Map<string, DumpItem>();
  readonly warnings: string[] = [];
  private readonly owners = new Map<string, string>();
  private readonly extensionOf = new Map<string, string>();
  private readonly typeLinks = new Map<string, { rel: number; arrayOf: number | null; multirangeOf: number | null }>();

  constructor(catalog: Catalog) {
    for (const member of catalog.extensionMembers) this.extensionOf.set(ref(member.class, member.objid), ref("pg_extension", member.extension));
    for (const link of catalog.typeLinks) this.typeLinks.set(String(link.oid), { rel: link.rel, arrayOf: link.array_of, multirangeOf: link.multirange_of });
  }

  add(item: Omit<DumpItem, "deps"> & { deps?: Iterable<string> }): DumpItem {
    const full: DumpItem = { ...item, deps: new Set(item.deps ?? []) };
    this.items.set(full.key, full);
    this.owners.set(full.key, full.key);
    return full;
  }

  /** Records that `itemKey` creates the catalog object `objectRef` (a column default, an index behind a constraint, ...). */
  own(objectRef: string, itemKey: string): void {
    this.owners.set(objectRef, itemKey);
  }

  /** The item that creates a catalog object; for an extension's member, the extension. */
  ownerOf(objectRef: string, depth = 0): string | undefined {
    const extension = this.extensionOf.get(objectRef);
    if (extension) return this.owners.get(extension);
    const owner = this.owners.get(objectRef);
    if (owner || depth > 3) return owner;
    const [catalog, oid] = objectRef.split(":");
    if (catalog === "pg_type") {
      const link = this.typeLinks.get(oid!);
      if (link?.rel) return this.ownerOf(ref("pg_class", link.rel), depth + 1);
      if (link?.arrayOf) return this.ownerOf(ref("pg_type", link.arrayOf), depth + 1);
      if (link?.multirangeOf) return this.ownerOf(ref("pg_type", link.multirangeOf), depth + 1);
    }
    return undefined;
  }

  isExtensionMember(objectRef: string): boolean {
    return this.extensionOf.has(objectRef);
  }

  /** Adds an edge unless either end is unknown or it would be a self-edge. */
  depend(fromKey: string, onRef: string): void {
    const from = this.items.get(fromKey);
    const to = this.ownerOf(onRef);
    if (from && to && to !== fromKey) from.deps.add(to);
  }
}
