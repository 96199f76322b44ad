import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EntryTable } from "../archive/entry-table.js";
import { planTarget } from "./target-plan.js";

/** A manifest's table of `fs/` entries (folders end with `/`). */
function backupOf(names: string[]): EntryTable {
  const table = new EntryTable(1);
  names.forEach((name, row) => {
    table.reserve(row);
    table.names.push(name);
    table.kinds[row] = name.endsWith("/") ? 1 : 0;
  });
  return table;
}

describe("the target plan past its list limit", () => {
  let root: string;
  let home: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "target-plan-"));
    home = path.join(root, "home");
    // The old home: two files the backup also has, five it does not, a folder it has as a file, a kept one.
    await mkdir(path.join(home, "site/old"), { recursive: true });
    await mkdir(path.join(home, "site/was-folder"), { recursive: true });
    await mkdir(path.join(home, "site/uploads"), { recursive: true });
    for (const name of ["site/a.txt", "site/b.txt", "site/old/1", "site/old/2", "site/old/3", "site/stale", "site/uploads/u.dat"]) await writeFile(path.join(home, name), name);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const backup = backupOf(["meta", "fs/", "fs/site/", "fs/site/a.txt", "fs/site/b.txt", "fs/site/c.txt", "fs/site/was-folder", "fs/site/new/", "fs/site/new/d.txt"]);

  it("counts every written and deleted path and lists only the first ones, in walk order", () => {
    const plan = planTarget(home, backup, ["site/uploads"], [], 2);
    expect(plan.written).toEqual({ paths: ["site/", "site/a.txt"], count: 7 });
    expect(plan.deleted).toEqual({ paths: ["site/old/", "site/old/1"], count: 5 });
    expect(plan.kept).toEqual([{ path: "site/uploads", reason: "filter" }]);
  });

  it("lists them all when they fit", () => {
    const plan = planTarget(home, backup, ["site/uploads"], []);
    expect(plan.written.paths).toEqual(["site/", "site/a.txt", "site/b.txt", "site/c.txt", "site/was-folder", "site/new/", "site/new/d.txt"]);
    expect(plan.deleted).toEqual({ paths: ["site/old/", "site/old/1", "site/old/2", "site/old/3", "site/stale"], count: 5 });
  });

  it("knows the backup's rows under a kept path by row", () => {
    const plan = planTarget(home, backupOf(["fs/site/", "fs/site/uploads/", "fs/site/uploads/x", "fs/site/z"]), ["site/uploads"], []);
    expect([0, 1, 2, 3].map((row) => plan.keepsEntry(row))).toEqual([false, true, true, false]);
    expect(plan.written).toEqual({ paths: ["site/", "site/z"], count: 2 });
  });
});
