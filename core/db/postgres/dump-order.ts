import type { Catalog } from "./catalog.js";
import { byCodeUnits } from "../../code-unit-order.js";
import { type DumpItem, type DumpPlan, ref } from "./dump-plan.js";

/** Turns pg_depend rows into edges between the plan's items. */
export function addCatalogDependencies(plan: DumpPlan, catalog: Catalog): void {
  for (const row of catalog.dependencies) {
    const objectRef = ref(row.class, row.objid);
    if (plan.isExtensionMember(objectRef)) continue;
    const fromKey = plan.ownerOf(objectRef);
    if (fromKey) plan.depend(fromKey, ref(row.refclass, row.refobjid));
  }
}

/**
 * A pre-data object that needs a post-data one (a view grouping by a primary key relies on that
 * key) moves to post-data with everything that needs it in turn.
 */
export function settleSections(plan: DumpPlan): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const item of plan.items.values()) {
      if (item.section !== "pre") continue;
      for (const dep of item.deps) {
        if (plan.items.get(dep)?.section === "post") {
          item.section = "post";
          changed = true;
          break;
        }
      }
    }
  }
}

/**
 * Orders one section's items so each comes after what it depends on, otherwise by rank and name.
 * A dependency cycle (which plain SQL cannot express) is broken at the first item by that order,
 * with a warning.
 */
export function orderSection(plan: DumpPlan, section: "pre" | "post"): DumpItem[] {
  const items = [...plan.items.values()].filter((i) => i.section === section);
  const inSection = new Set(items.map((i) => i.key));
  const compare = (a: DumpItem, b: DumpItem) => a.rank - b.rank || byCodeUnits(a.sortKey, b.sortKey) || (a.key < b.key ? -1 : 1);
  items.sort(compare);
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const item of items) {
    let count = 0;
    for (const dep of item.deps) {
      if (!inSection.has(dep)) continue;
      count++;
      const list = dependents.get(dep);
      if (list) list.push(item.key);
      else dependents.set(dep, [item.key]);
    }
    waitingOn.set(item.key, count);
  }
  const heap = new MinHeap<DumpItem>(compare);
  for (const item of items) if (waitingOn.get(item.key) === 0) heap.push(item);
  const ordered: DumpItem[] = [];
  const done = new Set<string>();
  while (ordered.length < items.length) {
    let next = heap.pop();
    if (!next) {
      next = items.find((i) => !done.has(i.key))!;
      const blockers = [...next.deps].filter((d) => inSection.has(d) && !done.has(d)).map((d) => plan.items.get(d)!.title.name);
      plan.warnings.push(`Circular dependency between ${next.title.type} ${next.title.name} and ${blockers.join(", ")}; the dump may need manual reordering to restore.`);
      waitingOn.set(next.key, 0);
    }
    if (done.has(next.key)) continue;
    done.add(next.key);
    ordered.push(next);
    for (const dependent of dependents.get(next.key) ?? []) {
      const left = waitingOn.get(dependent)! - 1;
      waitingOn.set(dependent, left);
      if (left === 0 && !done.has(dependent)) heap.push(plan.items.get(dependent)!);
    }
  }
  return ordered;
}

class MinHeap<T> {
  private readonly values: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  push(value: T): void {
    const values = this.values;
    values.push(value);
    let index = values.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.compare(values[index]!, values[parent]!) >= 0) break;
      [values[index], values[parent]] = [values[parent]!, values[index]!];
      index = parent;
    }
  }

  pop(): T | undefined {
    const values = this.values;
    if (values.length === 0) return undefined;
    const top = values[0];
    const last = values.pop()!;
    if (values.length > 0) {
      values[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < values.length && this.compare(values[left]!, values[smallest]!) < 0) smallest = left;
        if (right < values.length && this.compare(values[right]!, values[smallest]!) < 0) smallest = right;
        if (smallest === index) break;
        [values[index], values[smallest]] = [values[smallest]!, values[index]!];
        index = smallest;
      }
    }
    return top;
  }
}
