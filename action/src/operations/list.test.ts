import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newestWithinBudget } from "./list.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);

describe("the backups output's budget", () => {
  it("keeps the longest run of the newest entries whose JSON array fits, however large each entry is", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name: fc.string(), error: fc.string({ maxLength: 400 }) }), { maxLength: 60 }), fc.integer({ min: 2, max: 4000 }), (entries, budget) => {
        const kept = newestWithinBudget(entries, budget);
        expect(kept).toEqual(entries.slice(0, kept.length));
        expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(budget);
        if (kept.length < entries.length) expect(Buffer.byteLength(JSON.stringify(entries.slice(0, kept.length + 1)))).toBeGreaterThan(budget);
      }),
      { seed, numRuns: 300 },
    );
  });
});
