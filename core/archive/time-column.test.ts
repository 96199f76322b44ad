import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EntryTable } from "./entry-table.js";
import { TimeColumn } from "./time-column.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261207);

/** Times as manifests and zips give them (whole ms, around now), and the odd ones a column must still keep exactly. */
const anyTime = fc.oneof(
  fc.integer({ min: 0, max: Date.UTC(2100, 0) }),
  fc.integer({ min: -(2 ** 47), max: 2 ** 47 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(Number.NaN, -0, 2 ** 32, 2 ** 32 - 1, -(2 ** 32), 8.64e15, -8.64e15, 0x7fff * 2 ** 32, 0x8000 * 2 ** 32, -0x7fff * 2 ** 32, -0x8000 * 2 ** 32, 1.5),
);

describe(`the time column (FC_SEED=${seed})`, () => {
  it("reads back every time set, in any order and set again, as an array of numbers does", () => {
    fc.assert(
      fc.property(fc.nat({ max: 40 }), fc.array(fc.tuple(fc.nat(), anyTime), { maxLength: 120 }), (rows, writes) => {
        const column = TimeColumn.ofLength(rows);
        const model = new Array<number>(rows).fill(0);
        for (const [at, ms] of writes) {
          if (rows === 0) break;
          column.set(at % rows, ms);
          model[at % rows] = ms;
        }
        // -0 and 0 are the same time.
        expect(Array.from({ length: rows }, (_, row) => column.get(row))).toEqual(model.map((ms) => (Object.is(ms, -0) ? 0 : ms)));
      }),
      { seed, numRuns: 500 },
    );
  });

  it("keeps an entry table's times through its growth and trimming", () => {
    fc.assert(
      fc.property(fc.array(anyTime, { maxLength: 3000 }), (times) => {
        const table = new EntryTable(1);
        times.forEach((ms, row) => {
          table.reserve(row);
          table.names.push(`fs/${row}`);
          table.setMtime(row, ms);
        });
        table.trim();
        expect(table.mtimeRows).toBeGreaterThanOrEqual(times.length);
        expect(times.map((_, row) => table.mtime(row))).toEqual(times.map((ms) => (Object.is(ms, -0) ? 0 : ms)));
      }),
      { seed, numRuns: 50 },
    );
  });
});
