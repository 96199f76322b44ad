import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DigestColumn } from "./digest-column.js";

const seed = Number(process.env.FC_SEED ?? 20261207);
const folder = mkdtempSync(path.join(os.tmpdir(), "digest-column-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const digestOf = (row: number, version: number) => {
  const digest = new Uint8Array(32);
  for (let i = 0; i < 32; i++) digest[i] = (row * 31 + version * 7 + i) & 0xff;
  return digest;
};

const read = (column: DigestColumn, row: number) => {
  const target = new Uint8Array(40).fill(0xee);
  column.copyTo(row, target, 4);
  // Only the 32 bytes asked for are written.
  expect([...target.subarray(0, 4), ...target.subarray(36)]).toEqual(new Array(8).fill(0xee));
  return target.subarray(4, 36);
};

describe("DigestColumn", () => {
  it("gives back every digest set, in memory and past the memory limit in a temp file that has no name", () => {
    const column = new DigestColumn({ memoryRows: 100, windowRows: 16, directory: folder });
    for (let row = 0; row < 1000; row++) column.set(row, digestOf(row, 0));
    expect(column.spilled).toBe(true);
    expect(readdirSync(folder)).toEqual([]);
    for (let row = 999; row >= 0; row -= 7) expect(read(column, row)).toEqual(digestOf(row, 0));
    expect(column.hex(5)).toBe(Buffer.from(digestOf(5, 0)).toString("hex"));
    column.close();
    column.close();
    expect(() => column.copyTo(0, new Uint8Array(32))).toThrow(/closed/);
  });

  it("stays in memory for a small home", () => {
    const column = new DigestColumn({ memoryRows: 100, directory: folder });
    for (let row = 0; row < 100; row++) column.set(row, digestOf(row, 0));
    expect(column.spilled).toBe(false);
    expect(read(column, 42)).toEqual(digestOf(42, 0));
    expect(read(column, 500)).toEqual(new Uint8Array(32));
  });

  it("keeps working in memory when the temp folder cannot be written", () => {
    const column = new DigestColumn({ memoryRows: 4, directory: path.join(folder, "missing", "folder") });
    for (let row = 0; row < 50; row++) column.set(row, digestOf(row, 1));
    expect(column.spilled).toBe(false);
    for (let row = 0; row < 50; row++) expect(read(column, row)).toEqual(digestOf(row, 1));
  });

  it("reads what was last set for each row whatever the order of writes and reads (property)", () => {
    const operation = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 200 }), version: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ get: fc.integer({ min: 0, max: 220 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 300 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 20 }), (operations, memoryRows, windowRows) => {
        const column = new DigestColumn({ memoryRows, windowRows, directory: folder });
        const model = new Map<number, Uint8Array>();
        try {
          for (const op of operations) {
            if ("set" in op) {
              const digest = digestOf(op.set, op.version);
              column.set(op.set, digest);
              model.set(op.set, digest);
            } else {
              expect(read(column, op.get)).toEqual(model.get(op.get) ?? new Uint8Array(32));
            }
          }
          for (const [row, digest] of model) expect(read(column, row)).toEqual(digest);
        } finally {
          column.close();
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});
