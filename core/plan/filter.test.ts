import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadFilter, PathFilter } from "./filter.js";

describe("PathFilter", () => {
  it("reads Azure's format: backslashes, a leading separator, a folder excluding its subtree", () => {
    const filter = new PathFilter(["\\site\\wwwroot\\Images\\2014", "/LogFiles/", "D:\\home\\data\\cache"], "test");
    expect(filter.excludes("site/wwwroot/Images/2014")).toBe(true);
    expect(filter.excludes("site/wwwroot/Images/2014/a.jpg")).toBe(true);
    expect(filter.excludes("site/wwwroot/Images/2014-old")).toBe(false);
    expect(filter.excludes("site/wwwroot/Images/2015/a.jpg")).toBe(false);
    expect(filter.excludes("LogFiles/http.log")).toBe(true);
    expect(filter.excludes("data/cache/x")).toBe(true);
  });

  it("skips blank lines and comments, and matches globs", () => {
    const filter = new PathFilter(["", "  # a comment", "site/wwwroot/**/*.tmp", "site/?.log", "**/node_modules"], "test");
    expect(filter.lines).toEqual(["site/wwwroot/**/*.tmp", "site/?.log", "**/node_modules"]);
    expect(filter.excludes("site/wwwroot/a/b/c.tmp")).toBe(true);
    expect(filter.excludes("site/wwwroot/c.tmp")).toBe(true);
    expect(filter.excludes("site/wwwroot/c.tmpx")).toBe(false);
    expect(filter.excludes("site/a.log")).toBe(true);
    expect(filter.excludes("site/ab.log")).toBe(false);
    expect(filter.excludes("site/wwwroot/node_modules")).toBe(true);
  });

  it("reports lines that matched nothing", () => {
    const filter = new PathFilter(["site/used", "site/unused"], "test");
    filter.excludes("site/used");
    expect(filter.unusedLines()).toEqual(["site/unused"]);
  });

  it("counts the paths each line excluded", () => {
    const filter = new PathFilter(["site/logs", "**/*.tmp", "# note", "site/none"], "test");
    for (const p of ["site/logs", "site/a.tmp", "b.tmp", "site/keep.txt"]) filter.excludes(p);
    expect(filter.lineMatches()).toEqual([
      { line: "site/logs", matched: 1 },
      { line: "**/*.tmp", matched: 2 },
      { line: "site/none", matched: 0 },
    ]);
  });

  it("rejects a line escaping the home, naming the line and where it is", () => {
    expect(() => new PathFilter(["ok", "..\\..\\etc"], "/h/_backup.filter")).toThrow(
      /Filter line "\.\.\\\.\.\\etc" \(\/h\/_backup\.filter, line 2\) escapes the app's home/,
    );
    expect(() => new PathFilter(["site/../../x"], "f")).toThrow(/escapes the app's home/);
    expect(() => new PathFilter(["C:\\Windows"], "f")).toThrow(/names a drive/);
    expect(() => new PathFilter(["/"], "f")).toThrow(/would exclude the whole home/);
  });
});

describe("loadFilter", () => {
  it("prefers inline lines, then site/wwwroot/_backup.filter, then the home's", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "filter-"));
    expect((await loadFilter(home, undefined)).isEmpty).toBe(true);
    await writeFile(path.join(home, "_backup.filter"), "from-home\n");
    expect((await loadFilter(home, undefined)).lines).toEqual(["from-home"]);
    await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
    await writeFile(path.join(home, "site/wwwroot/_backup.filter"), "\uFEFF\\from\\wwwroot\r\n");
    const azure = await loadFilter(home, undefined);
    expect(azure.lines).toEqual(["\\from\\wwwroot"]);
    expect(azure.source).toBe(path.join(home, "site/wwwroot/_backup.filter"));
    expect((await loadFilter(home, ["inline"])).lines).toEqual(["inline"]);
  });
});
