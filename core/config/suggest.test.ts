import { describe, expect, it } from "vitest";
import { closestWord, editDistance } from "./suggest.js";

describe("closestWord", () => {
  const keys = ["storage", "databases", "maxSize", "databaseMaxSize", "filter", "enabled", "schedule"];

  it("takes a key that differs only in case, or by at most two edits", () => {
    expect(closestWord("MAXSIZE", keys)).toBe("maxSize");
    expect(closestWord("storge", keys)).toBe("storage");
    expect(closestWord("databse", keys)).toBe("databases");
    expect(closestWord("filters", keys)).toBe("filter");
  });

  it("suggests nothing for a word three or more edits from every key", () => {
    expect(closestWord("retention", keys)).toBeUndefined();
    expect(closestWord("x", keys)).toBeUndefined();
  });

  it("prefers the nearest of several candidates", () => {
    expect(closestWord("databaseMaxSiz", keys)).toBe("databaseMaxSize");
  });
});

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});
