import { describe, expect, it } from "vitest";
import type { RestoreResult } from "../../core/index.js";
import { describeResult, restoreResultJson } from "./restore.js";

/** A dry run of a large tree, whose result lists the first paths of each kind only. */
function dryRunOf(written: string[], deleted: string[], counts: { written: number; deleted: number }): RestoreResult {
  const at = new Date("2026-12-06T12:00:00Z");
  return {
    backup: "shop_202612061200",
    app: "shop",
    home: "/srv/shop",
    status: "DryRun",
    dryRun: true,
    written,
    deleted,
    counts,
    keptByFilter: [],
    keptOther: [],
    files: counts.written,
    bytes: 4096,
    databases: [],
    settingsRestored: [],
    connectionStringsRestored: [],
    parts: { files: false, databases: [], settings: false, connectionStrings: false },
    warnings: [],
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
  };
}

describe("a restore's result past the path list limit", () => {
  const result = dryRunOf(["site/", "site/a.txt"], ["site/old.txt"], { written: 250_002, deleted: 7 });

  it("the text dry run prints the listed paths, the exact counts and how many more there are", () => {
    const text = describeResult(result);
    expect(text).toContain("write 250,002 paths");
    expect(text).toContain("    + site/a.txt\n    + and 250,000 more");
    expect(text).toContain("delete 7 paths:\n    - site/old.txt\n    - and 6 more");
  });

  it("the JSON result keeps the lists and says how many they leave out", () => {
    const json = restoreResultJson(result);
    expect(json).toMatchObject({
      written: ["site/", "site/a.txt"],
      deleted: ["site/old.txt"],
      counts: { written: 250_002, deleted: 7, keptByFilter: 0 },
      notListed: { written: 250_000, deleted: 6 },
    });
  });

  it("a list that holds every path says nothing more", () => {
    const text = describeResult(dryRunOf(["site/"], [], { written: 1, deleted: 0 }));
    expect(text).not.toContain("more");
  });
});
