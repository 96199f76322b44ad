import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredObject } from "../store/store.js";
import { appObjectsOf, findOrphans, orphanSafeAgeMs } from "./orphans.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);
const judgedAt = new Date("2030-06-01T00:00:00Z");
const hour = 3_600_000;

const stem = fc.oneof(
  fc.constantFrom("shop_20300101000000", "shop_20300101000000-2", "shop_20300102030405-17", "shop_20300103000000"),
  fc.constantFrom("other_20300101000000", "shopping_20300101000000", "shop_ondemand", "shop_2030010100000", "shop_20300101000000-1", "shop"),
  fc.constantFrom("shop_20300101000000-1000", "../shop_20300101000000", "shop_20300101000000.zip", ".partial-ab-shop_20300104000000"),
);
const storedObject = fc.record({
  stem,
  kind: fc.constantFrom("zip", "xml", "log", "lock", "json", "zip.tmp", "claim"),
  ageHours: fc.integer({ min: 0, max: 24 * 10 }),
});

function asObjects(records: Array<{ stem: string; kind: string; ageHours: number }>): StoredObject[] {
  const byName = new Map<string, StoredObject>();
  for (const r of records) {
    const name = r.kind === "claim" ? `claim.${r.stem}.txt` : `${r.stem}.${r.kind}`;
    byName.set(name, { name, size: 10, lastModified: new Date(judgedAt.getTime() - r.ageHours * hour) });
  }
  return [...byName.values()];
}

describe("findOrphans", () => {
  it("reports exactly the app's stamped names with no manifest whose zip, log and name claim are all older than a day, and stale claims of finished ones", () => {
    fc.assert(
      fc.property(fc.array(storedObject, { maxLength: 30 }), (records) => {
        const objects = asObjects(records);
        const names = new Set(objects.map((o) => o.name));
        // The store never lists temp files; they are found in a local container's folder (see prune-orphans.test.ts).
        const orphans = findOrphans({ ...appObjectsOf(objects), localFiles: [] }, "shop", judgedAt);
        const reported = new Map(orphans.map((o) => [o.name, o]));
        const ageOf = (parts: string[]) => judgedAt.getTime() - Math.max(...objects.filter((o) => parts.includes(o.name)).map((o) => o.lastModified.getTime()));
        const stemOf = (name: string) => /^claim\.(.+)\.txt$/.exec(name)?.[1] ?? name.replace(/\.(zip|xml|log|lock|json|zip\.tmp)$/, "");
        const stems = new Set(objects.map((o) => stemOf(o.name)));
        for (const s of stems) {
          const stamped = /^shop_\d{14}(-([2-9]|[1-9]\d{1,2}))?$/.test(s);
          const parts = [`${s}.zip`, `${s}.log`, `claim.${s}.txt`].filter((n) => names.has(n));
          const finished = names.has(`${s}.xml`);
          // A finished backup's parts are never orphans; only a claim it left is.
          const orphaned = finished ? parts.filter((n) => n.startsWith("claim.")) : parts;
          const expected = stamped && orphaned.length > 0 && ageOf(orphaned) > orphanSafeAgeMs;
          expect(reported.has(s), s).toBe(expected);
          if (!expected) continue;
          const orphan = reported.get(s)!;
          expect(orphan.objects).toEqual(orphaned.sort());
          const rule = finished ? "stale-claim" : names.has(`${s}.zip`) ? "zip-without-manifest" : names.has(`${s}.log`) ? "log-without-zip" : "stale-claim";
          expect(orphan.rule).toBe(rule);
        }
        for (const orphan of orphans) expect(stems.has(orphan.name)).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });
});
