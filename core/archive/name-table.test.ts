import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NameIndex, NameTable } from "./name-table.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261206);

/** Any text a name can hold: every plane, combining marks, and strings that are one NFC/NFD pair apart. */
const anyName = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme-composite", maxLength: 12 }),
  fc.constantFrom("é", "e\u0301", "Å", "A\u030a", "\u212b", "😀", "fs/😀/a", "ﬁ", "fi", ""),
);

/** A few segments shared a lot, so that names repeat and share long prefixes. */
const path = fc.array(fc.oneof(anyName, fc.constantFrom("fs", "site", "wwwroot", "a".repeat(300))), { minLength: 1, maxLength: 5 }).map((segments) => segments.join("/"));

function tableOf(names: string[]): NameTable {
  const table = new NameTable(2);
  for (const name of names) table.push(name);
  return table;
}

describe(`the compact name table (FC_SEED=${seed})`, () => {
  it("gives back every name exactly as it was stored, whatever its characters", () => {
    fc.assert(
      fc.property(fc.array(path, { maxLength: 60 }), (names) => {
        const table = tableOf(names);
        expect(table.count).toBe(names.length);
        expect([...table]).toEqual(names);
        names.forEach((name, row) => expect(table.length(row)).toBe(Buffer.byteLength(name)));
      }),
      { seed, numRuns: 300 },
    );
  });

  it("stores bytes read from a zip as they are when they are UTF-8, and as their text otherwise", () => {
    const table = new NameTable();
    const utf8 = Buffer.from("fs/é/😀");
    const latin1 = Buffer.from([0x66, 0x73, 0x2f, 0xe9]);
    const invalid = Buffer.from([0x66, 0x2f, 0xff, 0xfe]);
    table.pushBytes(utf8, 0, utf8.length);
    table.pushBytes(latin1, 0, latin1.length, "latin1");
    table.pushBytes(invalid, 0, invalid.length);
    expect([...table]).toEqual(["fs/é/😀", "fs/é", invalid.toString("utf8")]);
  });

  it("finds and refuses names as a Map of strings does: NFC and NFD stay two names", () => {
    fc.assert(
      fc.property(fc.array(path, { maxLength: 80 }), fc.array(path, { maxLength: 20 }), (names, probes) => {
        const table = tableOf(names);
        const index = new NameIndex(table, 4);
        const map = new Map<string, number>();
        names.forEach((name, row) => {
          const first = map.get(name);
          expect(index.add(row)).toBe(first ?? -1);
          if (first === undefined) map.set(name, row);
        });
        for (const probe of [...names, ...probes, ...names.map((name) => name.normalize("NFD")), ...names.map((name) => name.normalize("NFC"))]) {
          expect(index.findKey(probe)).toBe(map.get(probe) ?? -1);
        }
      }),
      { seed, numRuns: 300 },
    );
  });

  it("files a folder under its path without the slash, so a file and a folder of one path meet", () => {
    const table = tableOf(["fs/a/", "fs/a", "fs/b", "fs/b/c/"]);
    const index = new NameIndex(table, 0, true);
    expect([0, 1, 2, 3].map((row) => index.add(row))).toEqual([-1, 0, -1, -1]);
    expect(index.findKey("fs/b/c")).toBe(3);
    expect(index.findKey("fs/b/c/")).toBe(-1);
  });

  it("tells apart long names that differ in one byte deep inside their shared prefix", () => {
    const prefix = `fs/${"deep/".repeat(400)}`;
    const twin = (byte: string) => `${prefix.slice(0, 1000)}${byte}${prefix.slice(1001)}file.txt`;
    const table = tableOf([twin("x"), twin("y"), twin("x")]);
    const index = new NameIndex(table);
    expect([0, 1, 2].map((row) => index.add(row))).toEqual([-1, -1, 0]);
    expect(table.equals(0, table, 2)).toBe(true);
    expect(table.equals(0, table, 1)).toBe(false);
    expect(table.compare(0, 1)).toBeLessThan(0);
  });
});
