import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDescriptors, tempFolders } from "../../test/support/spool-checks.js";
import { PathFilter } from "./filter.js";
import { spoolHome } from "./planned-entries.js";
import { walkHome } from "./walk.js";

const tempFolder = tempFolders();

describe("spoolHome", () => {
  it("reads back past a tiny threshold exactly the walk's entries and totals, from a temp file no one sees", () => {
    const home = tempFolder("spool-home-");
    for (let i = 0; i < 40; i++) {
      mkdirSync(path.join(home, `d${i % 4}`, "ñ 日本"), { recursive: true });
      writeFileSync(path.join(home, `d${i % 4}`, "ñ 日本", `f${i}.txt`), "x".repeat(i));
    }
    symlinkSync("../d1", path.join(home, "d0", "link"));
    const spoolDir = tempFolder("spool-dir-");
    const filter = new PathFilter(["d3"], "test");
    const expected = walkHome(home, filter);
    const spooled = spoolHome(home, filter, {}, { memoryBytes: 0, directory: spoolDir });
    try {
      expect(spooled.entries.spilled).toBe(true);
      expect(readdirSync(spoolDir)).toEqual([]);
      expect([...spooled.entries]).toEqual(expected.entries);
      expect(spooled.entries.length).toBe(expected.entries.length);
      expect({ ...spooled, entries: undefined }).toEqual({ ...expected, entries: undefined });
    } finally {
      spooled.entries.close();
    }
  });

  it("lets its temp file go when the walk fails part way", () => {
    const home = tempFolder("spool-home-");
    for (let i = 0; i < 20; i++) writeFileSync(path.join(home, `f${i}.txt`), "x");
    const descriptors = openDescriptors();
    let seen = 0;
    const failing = {
      exclude: () => {
        if (++seen === 10) throw new Error("the walk broke");
        return false;
      },
    };
    expect(() => spoolHome(home, new PathFilter([], "none"), failing, { memoryBytes: 0 })).toThrow("the walk broke");
    expect(openDescriptors()).toBe(descriptors);
  });
});
