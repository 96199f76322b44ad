import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ArchiveEntry } from "./types.js";
import { archiveEntryOf, WrittenEntries, type WrittenEntry } from "./written-entries.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);

const entry = fc.record({
  name: fc.string({ unit: "binary", maxLength: 300 }),
  kind: fc.constantFrom("file", "directory", "symlink") as fc.Arbitrary<ArchiveEntry["kind"]>,
  // Past 4 GiB and up to what a double holds exactly.
  size: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 2 ** 32 - 2, max: Number.MAX_SAFE_INTEGER })),
  compressedSize: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  method: fc.constantFrom(0, 8),
  crc32: fc.integer({ min: 0, max: 0xffffffff }),
  content: fc.string({ maxLength: 20 }),
  mtime: fc.integer({ min: -8.64e15, max: 8.64e15 }),
  mode: fc.integer({ min: 0, max: 0xffff }),
  linkTarget: fc.option(fc.string({ unit: "binary", maxLength: 200 }), { nil: undefined }),
  offset: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  streamed: fc.boolean(),
});

describe("WrittenEntries", () => {
  it("reads back any sequence of entries as written (any Unicode name, empty link targets, sizes past 4 GiB), in memory or spilled", () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), fc.integer({ min: 0, max: 2000 }), (entries, memoryBytes) => {
        const list = new WrittenEntries({ memoryBytes });
        try {
          const written: WrittenEntry[] = entries.map((e) => ({
            name: e.name,
            kind: e.kind,
            size: e.size,
            compressedSize: e.compressedSize,
            method: e.method,
            crc32: e.crc32,
            sha256: createHash("sha256").update(e.content).digest(),
            mtime: new Date(e.mtime),
            mode: e.mode,
            ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
          }));
          written.forEach((w, i) => list.add(w, entries[i]!.offset, entries[i]!.streamed));
          // A lone surrogate cannot be written as UTF-8: it comes back as U+FFFD, as in the zip itself.
          const expected = written.map((w) => JSON.parse(JSON.stringify(archiveEntryOf(w), (key, value) => (typeof value === "string" ? Buffer.from(value).toString() : value))));
          expect(JSON.parse(JSON.stringify([...list]))).toEqual(expected);
          // Again, for the manifest after the central directory.
          expect(JSON.parse(JSON.stringify([...list]))).toEqual(expected);
          const central = Array.from(list.central(), (c) => ({ offset: c.localHeaderOffset, streamed: c.streamed, size: c.size, mode: c.mode, mtime: c.mtime.getTime() }));
          expect(central).toEqual(entries.map((e) => ({ offset: e.offset, streamed: e.streamed, size: e.size, mode: e.mode, mtime: e.mtime })));
          expect(list.length).toBe(entries.length);
          expect(list.files).toBe(entries.filter((e) => e.kind === "file").length);
          expect(list.bytes).toBe(entries.reduce((sum, e) => sum + e.size, 0));
        } finally {
          list.close();
        }
      }),
      { seed, numRuns: 150 },
    );
  });
});
