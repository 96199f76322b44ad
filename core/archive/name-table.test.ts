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

  /** Names as a home's walk gives them: files of a few folders, one after another, so most share a long prefix with the one before. */
  const walkNames = fc
    .array(fc.tuple(fc.array(fc.oneof(fc.constantFrom("fs", "site", "wwwroot", "é", "😀", "x".repeat(130)), anyName), { minLength: 1, maxLength: 4 }), fc.array(anyName, { minLength: 1, maxLength: 12 })), { maxLength: 12 })
    .map((folders) => folders.flatMap(([folder, files]) => files.map((file) => `${folder.join("/")}/${file}`)));

  it("reads any row, in any order and through every method, as a list of the names does", () => {
    fc.assert(
      fc.property(walkNames, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: 7 })), { maxLength: 200 }), (names, reads) => {
        const table = tableOf(names);
        const model = names.map((name) => Buffer.from(name));
        if (names.length === 0) return;
        for (const [a, b, what] of reads) {
          const row = a % names.length;
          const other = b % names.length;
          const name = model[row]!;
          switch (what) {
            case 0:
              expect(Buffer.from(table.bytes(row))).toEqual(name);
              break;
            case 1:
              expect(table.get(row)).toBe(names[row]);
              break;
            case 2:
              expect(table.length(row)).toBe(name.length);
              break;
            case 3:
              expect(table.lastByte(row)).toBe(name.length ? name[name.length - 1] : -1);
              break;
            case 4:
              expect(table.startsWith(row, "fs/")).toBe(name.subarray(0, 3).toString("latin1") === "fs/");
              break;
            case 5:
              expect(table.equalsBytes(row, model[other]!, 0, model[other]!.length)).toBe(name.equals(model[other]!));
              break;
            case 6:
              expect(Math.sign(table.compare(row, other))).toBe(Math.sign(Buffer.compare(name, model[other]!)));
              break;
            case 7:
              expect(table.equals(row, table, other)).toBe(name.equals(model[other]!));
              break;
          }
        }
      }),
      { seed, numRuns: 300 },
    );
  });

  it("keeps a view from bytes() whole while other rows are compared and found", () => {
    fc.assert(
      fc.property(walkNames, (names) => {
        const table = tableOf(names);
        const index = new NameIndex(table, names.length);
        names.forEach((_, row) => index.add(row));
        for (let row = 0; row < names.length; row++) {
          const view = table.bytes(row);
          for (let other = 0; other < names.length; other += 7) {
            table.equalsBytes(other, view, 0, view.length);
            table.get(other);
            table.length(other);
          }
          expect(index.find(view, 0, view.length)).toBe(names.indexOf(names[row]!));
          expect(view.toString("utf8")).toBe(names[row]);
        }
      }),
      { seed, numRuns: 100 },
    );
  });

  it("takes over another table's first rows with pushFrom, and goes on coding after them", () => {
    fc.assert(
      fc.property(walkNames, fc.nat(), walkNames, (names, cut, more) => {
        const count = names.length ? cut % (names.length + 1) : 0;
        const copy = new NameTable();
        copy.pushFrom(tableOf(names), count);
        for (const name of more) copy.push(name);
        expect([...copy]).toEqual([...names.slice(0, count), ...more]);
      }),
      { seed, numRuns: 200 },
    );
  });

  it("finds names as a Map does whether or not its slots carry hash bits (rows past 2^rowBits drop them)", () => {
    fc.assert(
      fc.property(walkNames, fc.nat({ max: 6 }), fc.boolean(), (names, rowBits, folderKeys) => {
        const table = tableOf(names);
        const index = new NameIndex(table, 2, folderKeys, rowBits);
        const keyOf = (name: string) => (folderKeys && name.endsWith("/") ? name.slice(0, -1) : name);
        const map = new Map<string, number>();
        names.forEach((name, row) => {
          const first = map.get(keyOf(name));
          expect(index.add(row)).toBe(first ?? -1);
          if (first === undefined) map.set(keyOf(name), row);
        });
        for (const name of names) expect(index.findKey(keyOf(name))).toBe(map.get(keyOf(name)));
        for (const [row] of names.entries()) expect(index.keyLength(row)).toBe(Buffer.byteLength(keyOf(names[row]!)));
        expect(index.findKey("fs/none\u0000")).toBe(-1);
      }),
      { seed, numRuns: 300 },
    );
  });

  it("codes a folder of many files in far fewer bytes than the names hold", () => {
    const names = Array.from({ length: 1000 }, (_, i) => `fs/site/wwwroot/assets/images/photo-${String(i).padStart(4, "0")}.jpg`);
    const table = tableOf(names);
    expect(table.byteLength).toBeLessThan(names.join("").length / 3);
    expect([...table]).toEqual(names);
  });
});
