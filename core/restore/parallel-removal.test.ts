import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtractPool } from "../archive/extract-pool.js";
import { removeTreeOnWorkers } from "./parallel-removal.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's report names the seed of a failure). */
const seed = Number(process.env.FC_SEED ?? 20261207);

let scratch: string;
let pool: ExtractPool;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "parallel-removal-"));
  pool = new ExtractPool(2);
});
afterAll(async () => {
  await pool.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every path under `root`, with what a user would compare: kind, and a file's content or a link's target. */
function snapshot(root: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const absolute = path.join(folder, name);
      const info = lstatSync(absolute);
      const relative = path.relative(root, absolute);
      if (info.isSymbolicLink()) seen.set(relative, "link");
      else if (info.isDirectory()) {
        seen.set(relative, "folder");
        visit(absolute);
      } else seen.set(relative, `file:${readFileSync(absolute, "utf8")}`);
    }
  };
  visit(root);
  return seen;
}

describe("deleting the old home on the restore's workers", () => {
  it("deletes a wide and deep tree with read-only folders and links out of it, and nothing else", async () => {
    const case1 = mkdtempSync(path.join(scratch, "case-"));
    const outside = path.join(case1, "outside");
    mkdirSync(outside);
    writeFileSync(path.join(outside, "keep.txt"), "not the home's");
    const tree = path.join(case1, "previous");
    for (let a = 0; a < 30; a++) {
      for (let b = 0; b < 4; b++) {
        const folder = path.join(tree, "site", `a${a}`, `b${b}`, "c");
        mkdirSync(folder, { recursive: true });
        for (let f = 0; f < 20; f++) writeFileSync(path.join(folder, `f${f}.txt`), `${a}/${b}/${f}`);
      }
    }
    writeFileSync(path.join(tree, "top.txt"), "top");
    symlinkSync(outside, path.join(tree, "site", "a3", "to-outside"));
    symlinkSync(path.join(outside, "keep.txt"), path.join(tree, "link-to-file"));
    chmodSync(path.join(tree, "site", "a7", "b1", "c"), 0o500);
    chmodSync(path.join(tree, "site", "a9"), 0o555);
    const threadsBefore = ExtractPool.threadsStarted;
    const outsideBefore = snapshot(outside);

    await removeTreeOnWorkers(tree, pool);

    expect(existsSync(tree)).toBe(false);
    expect(snapshot(outside)).toEqual(outsideBefore);
    expect(readdirSync(case1)).toEqual(["outside"]);
    // The subtrees went to worker threads, not this one.
    expect(ExtractPool.threadsStarted).toBeGreaterThan(threadsBefore);
  });

  it("deletes a file or nothing, as removeTree does, for a path that is not a folder", async () => {
    const file = path.join(scratch, "a-file");
    writeFileSync(file, "x");
    await removeTreeOnWorkers(file, pool);
    expect(existsSync(file)).toBe(false);
    await expect(removeTreeOnWorkers(path.join(scratch, "not-there"), pool)).resolves.toBeUndefined();
  });

  it("rejects, naming the subtree, when a worker cannot delete it, and deletes nothing outside the tree", async () => {
    const base = mkdtempSync(path.join(scratch, "refused-"));
    const tree = path.join(base, "previous");
    // More top folders than the workers are given subtrees: they go to the workers unlisted here.
    for (let a = 0; a < 20; a++) {
      mkdirSync(path.join(tree, `a${a}`, "deep"), { recursive: true });
      writeFileSync(path.join(tree, `a${a}`, "deep", "page.html"), `page ${a}`);
    }
    // An immutable file refuses to be unlinked even by root (ext4, as the tests' temp folder is here).
    const pinned = path.join(tree, "a5", "deep", "page.html");
    execFileSync("chattr", ["+i", pinned]);
    try {
      const refused = await removeTreeOnWorkers(tree, pool).catch((error: unknown) => error as Error & { code?: string });
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toMatch(/^Cannot delete .*previous\/a5: /);
      expect((refused as { code?: string }).code).toBe("EPERM");
      expect(existsSync(pinned)).toBe(true);
      expect(readdirSync(base)).toEqual(["previous"]);
    } finally {
      execFileSync("chattr", ["-i", pinned]);
    }
    // Once the file may go, the same call finishes the job.
    await removeTreeOnWorkers(tree, pool);
    expect(readdirSync(base)).toEqual([]);
  });

  it("for any tree, removes exactly that tree: its siblings and what its links point to are untouched", async () => {
    type Node = { kind: "file"; text: string } | { kind: "link"; toSibling: boolean } | { kind: "folder"; children: Record<string, Node>; readOnly: boolean };
    const name = fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "ünï", "x y", ".dot", "-dash");
    const { node } = fc.letrec<{ node: Node }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.record({ kind: fc.constant("file" as const), text: fc.string({ maxLength: 8 }) }),
        fc.record({ kind: fc.constant("link" as const), toSibling: fc.boolean() }),
        fc.record({ kind: fc.constant("folder" as const), children: fc.dictionary(name, tie("node"), { maxKeys: 5 }), readOnly: fc.boolean() }),
      ),
    }));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, node, { minKeys: 1, maxKeys: 6 }), async (top) => {
        const base = path.join(scratch, `property-${++run}`);
        const sibling = path.join(base, "sibling");
        mkdirSync(sibling, { recursive: true });
        writeFileSync(path.join(sibling, "keep.txt"), "keep");
        const tree = path.join(base, "previous");
        const readOnly: string[] = [];
        const build = (folder: string, children: Record<string, Node>) => {
          mkdirSync(folder, { recursive: true });
          for (const [child, entry] of Object.entries(children)) {
            const absolute = path.join(folder, child);
            if (entry.kind === "file") writeFileSync(absolute, entry.text);
            else if (entry.kind === "link") symlinkSync(entry.toSibling ? sibling : "../../nowhere", absolute);
            else {
              build(absolute, entry.children);
              if (entry.readOnly) readOnly.push(absolute);
            }
          }
        };
        build(tree, top);
        for (const folder of readOnly.reverse()) chmodSync(folder, 0o555);
        const siblingBefore = snapshot(sibling);
        await removeTreeOnWorkers(tree, pool);
        expect(existsSync(tree)).toBe(false);
        expect(snapshot(sibling)).toEqual(siblingBefore);
        expect(readdirSync(base)).toEqual(["sibling"]);
      }),
      { seed, numRuns: 60 },
    );
  });
});
