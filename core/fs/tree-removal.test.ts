import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeTree } from "./tree-removal.js";

let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "app-backup-remove-tree-"));
});

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe("removeTree", () => {
  it("deletes a tree whose folders were restored read-only", async () => {
    const tree = path.join(scratch, "tree");
    mkdirSync(path.join(tree, "locked", "inner"), { recursive: true });
    writeFileSync(path.join(tree, "locked", "inner", "a.txt"), "a");
    writeFileSync(path.join(tree, "locked", "b.txt"), "b");
    chmodSync(path.join(tree, "locked", "inner"), 0o500);
    chmodSync(path.join(tree, "locked"), 0o555);
    chmodSync(tree, 0o500);

    await removeTree(tree);

    expect(existsSync(tree)).toBe(false);
  });

  it("unlinks a link to a folder outside the tree, leaving that folder and what it holds alone", async () => {
    const outside = path.join(scratch, "outside");
    mkdirSync(path.join(outside, "deep"), { recursive: true });
    writeFileSync(path.join(outside, "deep", "keep.txt"), "keep");
    const tree = path.join(scratch, "tree");
    mkdirSync(path.join(tree, "sub"), { recursive: true });
    symlinkSync(outside, path.join(tree, "sub", "to-outside"));
    symlinkSync(path.join(outside, "deep", "keep.txt"), path.join(tree, "to-file"));

    await removeTree(tree);

    expect(existsSync(tree)).toBe(false);
    expect(readdirSync(path.join(outside, "deep"))).toEqual(["keep.txt"]);
  });

  it("unlinks a target that is itself a link, not what it points to", async () => {
    const outside = path.join(scratch, "outside");
    mkdirSync(outside);
    writeFileSync(path.join(outside, "keep.txt"), "keep");
    const link = path.join(scratch, "link");
    symlinkSync(outside, link);

    await removeTree(link);

    expect(lstatSync(link, { throwIfNoEntry: false })).toBeUndefined();
    expect(readdirSync(outside)).toEqual(["keep.txt"]);
  });

  it("deletes 2,000 levels of nested folders, which a recursive walk would not survive", async () => {
    const tree = path.join(scratch, "deep");
    let folder = tree;
    mkdirSync(folder);
    for (let level = 0; level < 2000; level++) {
      folder = path.join(folder, "d");
      mkdirSync(folder);
    }
    writeFileSync(path.join(folder, "bottom.txt"), "bottom");

    await removeTree(tree);

    expect(existsSync(tree)).toBe(false);
  });

  it("holds the folders on its path, never the files: a folder of many files costs what a few do", async () => {
    const tree = path.join(scratch, "tree");
    for (const folder of ["a", "b", "c"]) {
      mkdirSync(path.join(tree, folder, "sub"), { recursive: true });
      for (let file = 0; file < 1000; file++) writeFileSync(path.join(tree, folder, `f${file}`), "x");
    }
    for (let file = 0; file < 1000; file++) writeFileSync(path.join(tree, `top${file}`), "x");
    const held: number[] = [];

    await removeTree(tree, { onFolderEmptied: (paths) => held.push(paths) });

    expect(existsSync(tree)).toBe(false);
    // Every folder emptied once; at most the root, its three subfolders and one of theirs held at a time.
    expect(held).toHaveLength(7);
    expect(Math.max(...held)).toBeLessThanOrEqual(5);
  });

  it("deletes a single file, and does nothing for a path that is not there", async () => {
    const file = path.join(scratch, "file.txt");
    writeFileSync(file, "x");

    await removeTree(file);
    await removeTree(path.join(scratch, "missing"));

    expect(readdirSync(scratch)).toEqual([]);
  });
});
