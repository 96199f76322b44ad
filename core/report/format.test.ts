import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCount } from "./format.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);

describe("formatCount", () => {
  it("writes every whole number as en-US does", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.maxSafeInteger(), fc.maxSafeNat().map((n) => -n)), (n) => {
        expect(formatCount(n)).toBe(n.toLocaleString("en-US"));
      }),
      { seed, numRuns: 500 },
    );
  });

  it("groups thousands", () => {
    expect([0, 999, 1000, 123456, 1234567, -1000].map(formatCount)).toEqual(["0", "999", "1,000", "123,456", "1,234,567", "-1,000"]);
  });
});
