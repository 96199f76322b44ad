import { describe, expect, it } from "vitest";
import { EntryTable } from "./entry-table.js";

const FOUR_GIB = 2 ** 32;

describe("an entry table's byte-count columns", () => {
  it("hold 4 bytes a row until one value needs more, then widen for the whole column with every value kept", () => {
    const table = new EntryTable(3, "zip");
    table.setWide("sizes", 0, 123);
    table.setWide("offsets", 0, FOUR_GIB - 1);
    expect(table.sizes).toBeInstanceOf(Uint32Array);
    expect(table.offsets).toBeInstanceOf(Uint32Array);

    table.setWide("sizes", 1, 5 * FOUR_GIB + 7);
    table.setWide("offsets", 1, FOUR_GIB);
    expect(table.sizes).toBeInstanceOf(Float64Array);
    expect([table.sizes[0], table.sizes[1]]).toEqual([123, 5 * FOUR_GIB + 7]);
    expect([table.offsets[0], table.offsets[1]]).toEqual([FOUR_GIB - 1, FOUR_GIB]);
    // Columns no value outgrew stay narrow.
    expect(table.compressedSizes).toBeInstanceOf(Uint32Array);

    // A widened column stays wide as the table grows.
    table.reserve(10);
    table.setWide("sizes", 10, 1);
    expect(table.sizes).toBeInstanceOf(Float64Array);
    expect([table.sizes[1], table.sizes[10]]).toEqual([5 * FOUR_GIB + 7, 1]);
  });
});

describe("a table sharing another's columns", () => {
  function manifestOf(sizes: number[]): EntryTable {
    const manifest = new EntryTable(sizes.length);
    sizes.forEach((size, row) => {
      manifest.names.push(`fs/${row}`);
      manifest.setWide("sizes", row, size);
      manifest.crc32s[row] = row + 100;
    });
    return manifest;
  }

  it("holds no column of its own while every value it is given is the other's", () => {
    const manifest = manifestOf([10, 20, 30]);
    const zip = new EntryTable(3, "zip", { sharing: manifest });
    for (let row = 0; row < 3; row++) {
      zip.setCommon("sizes", row, manifest.sizes[row]!);
      zip.setCommon("crc32s", row, row + 100);
    }
    expect(zip.sharedColumns.sort()).toEqual(["compressedSizes", "crc32s", "kinds", "methods", "modes", "sizes"]);
    expect(zip.sizes).toBe(manifest.sizes);
  });

  it("takes its own copy of a column at the first value that differs, and leaves the other table as it was", () => {
    const manifest = manifestOf([10, 20, 30]);
    const zip = new EntryTable(3, "zip", { sharing: manifest });
    zip.setCommon("sizes", 0, 10);
    zip.setCommon("sizes", 1, 5 * FOUR_GIB);
    zip.setCommon("sizes", 2, 30);
    zip.setCommon("crc32s", 0, 100);
    expect(zip.sharedColumns).not.toContain("sizes");
    expect(zip.sharedColumns).toContain("crc32s");
    expect(Array.from(zip.sizes)).toEqual([10, 5 * FOUR_GIB, 30]);
    expect(Array.from(manifest.sizes)).toEqual([10, 20, 30]);
  });

  it("holds its own values for rows past the other table's end", () => {
    const manifest = manifestOf([10]);
    const zip = new EntryTable(2, "zip", { sharing: manifest });
    zip.setCommon("sizes", 0, 10);
    zip.setCommon("sizes", 1, 10);
    expect(Array.from(zip.sizes)).toEqual([10, 10]);
    expect(manifest.sizes.length).toBe(1);
  });
});
