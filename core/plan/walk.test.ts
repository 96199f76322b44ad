import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PathFilter } from "./filter.js";
import { walkHome } from "./walk.js";

describe("walkHome", () => {
  it("records symlinks as links, keeps empty folders, skips excluded subtrees and special files", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "walk-"));
    await mkdir(path.join(home, "site/wwwroot/empty"), { recursive: true });
    await mkdir(path.join(home, "site/cache/deep"), { recursive: true });
    await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>hi</h1>");
    await writeFile(path.join(home, "site/cache/deep/x"), "x");
    await symlink("/etc", path.join(home, "site/etc-link"));
    execFileSync("mkfifo", [path.join(home, "site/pipe")]);

    const walk = walkHome(home, new PathFilter(["site/cache"], "test"));
    const byPath = Object.fromEntries(walk.entries.map((e) => [e.path, e]));
    expect(Object.keys(byPath).sort()).toEqual(["site", "site/etc-link", "site/wwwroot", "site/wwwroot/empty", "site/wwwroot/index.html"]);
    expect(byPath["site/etc-link"]).toMatchObject({ kind: "symlink", linkTarget: "/etc" });
    expect(byPath["site/wwwroot/empty"]!.kind).toBe("directory");
    expect(byPath["site/wwwroot/index.html"]).toMatchObject({ kind: "file", size: 11 });
    expect(walk.files).toBe(1);
    expect(walk.contentBytes).toBe(11 + "/etc".length);
    expect(walk.ignored.map((i) => i.path)).toEqual(["site/pipe"]);
    // Nothing under /etc was visited.
    expect(walk.entries.some((e) => e.path.startsWith("site/etc-link/"))).toBe(false);
  });
});

describe("visitHomeNames", () => {
  it("reports the same paths, kinds and order as the full walk, with the same unreadable and ignored paths, from listings alone", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "walk-names-"));
    await mkdir(path.join(home, "site/wwwroot/empty"), { recursive: true });
    await mkdir(path.join(home, "site/B-upper"), { recursive: true });
    await mkdir(path.join(home, "site/locked"), { recursive: true });
    await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>hi</h1>");
    await writeFile(path.join(home, "site/é-accent.txt"), "é");
    await writeFile(path.join(home, "site/locked/secret"), "s");
    await symlink("/etc", path.join(home, "site/etc-link"));
    await symlink("missing", path.join(home, "site/dangling"));
    execFileSync("mkfifo", [path.join(home, "site/pipe")]);
    // Unreadable to any user but root: its listing fails, or succeeds, alike in both walks.
    execFileSync("chmod", ["000", path.join(home, "site/locked")]);
    const skip = (relative: string) => relative === "site/B-upper";
    try {
      const full: string[] = [];
      const { visitHome, visitHomeNames } = await import("./walk.js");
      visitHome(
        home,
        new PathFilter([], "none"),
        { entry: (e) => full.push(`${e.kind} ${e.path}`), unreadable: (p, r) => full.push(`unreadable ${p} ${r}`), ignored: (p, r) => full.push(`ignored ${p} ${r}`) },
        { exclude: (absolute) => skip(path.relative(home, absolute)) },
      );
      const names: string[] = [];
      visitHomeNames(home, { entry: (p, kind) => names.push(`${kind} ${p}`), unreadable: (p, r) => names.push(`unreadable ${p} ${r}`), ignored: (p, r) => names.push(`ignored ${p} ${r}`) }, skip);
      expect(names).toEqual(full);
      expect(names).toContain("symlink site/dangling");
      expect(names.some((line) => line.startsWith("ignored site/pipe"))).toBe(true);
      expect(names.some((line) => line.includes("B-upper"))).toBe(false);
    } finally {
      execFileSync("chmod", ["755", path.join(home, "site/locked")]);
    }
  });
});
