import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { chmod, lutimes, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { runBackup } from "../backup/backup.js";
import { resolveConfig } from "../config/load.js";
import { AppBackupError } from "../errors.js";
import { runRestore } from "./restore.js";

/**
 * The restore's confinement, as a property: whatever the backed-up tree, the
 * filter and the target's current tree (links to anywhere included), nothing
 * outside the target home changes, and the home ends up as the backup's tree
 * plus what the filter keeps, computed here without the code under test.
 */

const seed = Number(process.env.FC_SEED ?? 20261206);
const numRuns = Number(process.env.FC_RUNS ?? 200);

// A few names, so that trees, filter lines and link targets keep meeting each other.
const names = ["a", "b", "uploads"] as const;
const OUTSIDE = "@OUT";

type Node =
  | { kind: "file"; content: string; mode: number; mtime: number }
  | { kind: "dir"; mode: number; mtime: number; children: Record<string, Node> }
  | { kind: "link"; target: string; mtime: number };

const mtimeArb = fc.integer({ min: 978_307_200_000, max: 1_893_456_000_000 });
const linkTargetArb = fc.oneof(
  // inside the home, at some depth, maybe dangling
  fc.array(fc.constantFrom(...names, ".."), { minLength: 1, maxLength: 3 }).map((segments) => segments.join("/")),
  // out of the home by relative steps, into the sentinel tree or next to it
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom("outside/d1", "outside/f1", "outside/releases/r1", "outside", "tgt/sibling.txt", "tgt")).map(([up, rest]) => `${"../".repeat(up)}${rest}`),
  // absolute paths into the sentinel tree: folders, files, missing
  fc.constantFrom(`${OUTSIDE}/d1`, `${OUTSIDE}/f1`, `${OUTSIDE}/releases/r1`, `${OUTSIDE}/d1/a`, `${OUTSIDE}/missing`, OUTSIDE),
  fc.constant("/nonexistent/nowhere"),
);

function treeArb(depth: number): fc.Arbitrary<Record<string, Node>> {
  const file = fc.record({ kind: fc.constant("file" as const), content: fc.string({ maxLength: 12 }), mode: fc.constantFrom(0o644, 0o600, 0o755, 0o640), mtime: mtimeArb });
  const link = fc.record({ kind: fc.constant("link" as const), target: linkTargetArb, mtime: mtimeArb });
  const node: fc.Arbitrary<Node> =
    depth <= 0
      ? fc.oneof(file, link)
      : fc.oneof(
          { arbitrary: file, weight: 3 },
          { arbitrary: link, weight: 2 },
          { arbitrary: fc.record({ kind: fc.constant("dir" as const), mode: fc.constantFrom(0o755, 0o700, 0o750, 0o555), mtime: mtimeArb, children: treeArb(depth - 1) }), weight: 4 },
        );
  return fc.dictionary(fc.constantFrom(...names), node, { minKeys: 1, maxKeys: 3 });
}

const filterLineArb = fc.constantFrom("a", "uploads", "a/b", "a/uploads", "b/a", "a/b/uploads", "**/uploads", "*/b", "a/*", "**/b/*");

/**
 * The source tree with each link turned into a folder holding what filter
 * lines often keep: the target then has real folders, with kept paths in
 * them, exactly where the backup has links.
 */
function foldersForLinks(tree: Record<string, Node>): Record<string, Node> {
  const mirrored: Record<string, Node> = {};
  for (const [name, node] of Object.entries(tree)) {
    if (node.kind === "dir") mirrored[name] = { ...node, children: foldersForLinks(node.children) };
    else if (node.kind === "file") mirrored[name] = { ...node, content: `${node.content} (target)` };
    else {
      const upload: Node = { kind: "file", content: "a user's upload", mode: 0o640, mtime: node.mtime };
      mirrored[name] = { kind: "dir", mode: 0o750, mtime: node.mtime, children: { uploads: { kind: "dir", mode: 0o700, mtime: node.mtime, children: { a: upload } }, b: upload } };
    }
  }
  return mirrored;
}

const scenarioArb = fc
  .record({
    source: treeArb(3),
    target: fc.oneof(
      { arbitrary: treeArb(3).map((tree) => ({ tree })), weight: 4 },
      { arbitrary: fc.constant({ mirror: true as const }), weight: 5 },
      { arbitrary: fc.constant({}), weight: 1 },
    ),
    filter: fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 1 }, { arbitrary: fc.uniqueArray(filterLineArb, { minLength: 1, maxLength: 3 }), weight: 3 }),
    into: fc.constantFrom("same app" as const, "another app" as const),
  })
  .map(({ source, target, filter, into }) => ({
    source,
    /** The target home's tree before the restore; none: the home does not exist yet (or is empty, restoring into the same app). */
    target: "tree" in target ? target.tree : "mirror" in target ? foldersForLinks(source) : undefined,
    filter,
    into,
  }));
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** Exact milliseconds for utimes: seconds as a double fall a hair short otherwise. */
const seconds = (ms: number) => ms / 1000 + 5e-7;

async function materialize(folder: string, tree: Record<string, Node>, outside: string): Promise<void> {
  for (const [name, node] of Object.entries(tree)) {
    const at = path.join(folder, name);
    if (node.kind === "file") {
      await writeFile(at, node.content);
      await chmod(at, node.mode);
      await utimes(at, seconds(node.mtime), seconds(node.mtime));
    } else if (node.kind === "link") {
      await symlink(node.target.replace(OUTSIDE, outside), at);
      await lutimes(at, seconds(node.mtime), seconds(node.mtime));
    } else {
      await mkdir(at);
      await materialize(at, node.children, outside);
      await chmod(at, node.mode);
      await utimes(at, seconds(node.mtime), seconds(node.mtime));
    }
  }
}

/** Every path under `root` (links never followed) with its kind and what must be kept exactly. */
function facts(root: string, skip: (relative: string) => boolean = () => false): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (absolute: string, relative: string) => {
    for (const name of readdirSync(absolute).sort()) {
      const childRelative = relative ? `${relative}/${name}` : name;
      if (skip(childRelative)) continue;
      const childAbsolute = path.join(absolute, name);
      const info = lstatSync(childAbsolute);
      const mtime = Math.floor(info.mtimeMs);
      if (info.isSymbolicLink()) found.set(childRelative, `link -> ${readlinkSync(childAbsolute)} @${mtime}`);
      else if (info.isDirectory()) {
        found.set(childRelative, `dir ${(info.mode & 0o7777).toString(8)} @${mtime}`);
        visit(childAbsolute, childRelative);
      } else {
        const digest = createHash("sha256").update(readFileSync(childAbsolute)).digest("hex").slice(0, 12);
        found.set(childRelative, `file ${(info.mode & 0o7777).toString(8)} @${mtime} ${info.size} ${digest}`);
      }
    }
  };
  visit(root, "");
  return found;
}

/** The filter's documented matching: a plain line is a path and its subtree, a glob line matches by picomatch (dot files too). */
function lineMatcher(lines: string[]): (relative: string) => boolean {
  const rules = lines.map((line) => (/[*?]/.test(line) ? picomatch(line, { dot: true }) : (p: string) => p === line || p.startsWith(`${line}/`)));
  return (relative) => rules.some((rule) => rule(relative));
}

const ancestorsOf = (relative: string): string[] => {
  const segments = relative.split("/");
  return segments.slice(0, -1).map((_, index) => segments.slice(0, index + 1).join("/"));
};
const isDir = (fact: string | undefined) => fact?.startsWith("dir ") ?? false;

/** The tree a walk sees when it skips (and never enters) every path the lines match. */
function withoutMatched(tree: Map<string, string>, matches: (relative: string) => boolean): Map<string, string> {
  const kept = new Map<string, string>();
  for (const [relative, fact] of tree) if (![...ancestorsOf(relative), relative].some(matches)) kept.set(relative, fact);
  return kept;
}

/** Top-most paths of the target's tree that the lines match. */
function keptPaths(tree: Map<string, string>, matches: (relative: string) => boolean): string[] {
  return [...tree.keys()].filter((relative) => matches(relative) && !ancestorsOf(relative).some(matches)).sort();
}

const under = (relative: string, top: string) => relative === top || relative.startsWith(`${top}/`);

/** A fixed tree outside the homes, with names the homes use, that nothing may ever change. */
async function makeSentinel(root: string): Promise<void> {
  const outside = path.join(root, "outside");
  await mkdir(path.join(outside, "d1/a"), { recursive: true });
  await mkdir(path.join(outside, "d1/uploads"), { recursive: true });
  await mkdir(path.join(outside, "releases/r1/a"), { recursive: true });
  await writeFile(path.join(outside, "d1/a/x"), "outside x");
  await writeFile(path.join(outside, "d1/b"), "outside b");
  await writeFile(path.join(outside, "f1"), "outside f1");
  await writeFile(path.join(outside, "releases/r1/a/page"), "release page");
  await symlink("../tgt/home", path.join(outside, "into-target-home"));
  await mkdir(path.join(root, "tgt"), { recursive: true });
  await writeFile(path.join(root, "tgt/sibling.txt"), "beside the target home");
  await mkdir(path.join(root, "src"), { recursive: true });
  await writeFile(path.join(root, "src/sibling.txt"), "beside the source home");
  const time = seconds(1_600_000_000_123);
  for (const folder of ["outside/d1/a", "outside/d1/uploads", "outside/d1", "outside/releases/r1/a", "outside/releases/r1", "outside/releases", "outside"]) {
    await utimes(path.join(root, folder), time, time);
  }
}

async function emptyFolder(folder: string): Promise<void> {
  for (const name of await readdir(folder)) await rm(path.join(folder, name), { recursive: true, force: true });
}

async function checkScenario(scenario: Scenario): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "restore-property-"));
  try {
    await makeSentinel(root);
    const outside = path.join(root, "outside");
    const sourceHome = path.join(root, "src/home");
    await mkdir(sourceHome);
    await materialize(sourceHome, scenario.source, outside);
    const source = resolveConfig(
      { name: "src", home: "./home", settings: { ROLE: "source" }, backup: { storage: "file:../store", filter: scenario.filter } },
      { baseDir: path.join(root, "src") },
    );
    const target =
      scenario.into === "another app"
        ? resolveConfig({ name: "tgt", home: "./home", settings: { ROLE: "target" }, backup: { storage: "file:../tgt-store" } }, { baseDir: path.join(root, "tgt") })
        : source;

    const backup = await runBackup(source);
    expect(backup.status).toBe("Succeeded");
    const matches = lineMatcher(scenario.filter);
    const backedUp = withoutMatched(facts(sourceHome), matches);

    if (scenario.into === "same app") {
      await emptyFolder(sourceHome);
      await materialize(sourceHome, scenario.target ?? {}, outside);
    } else if (scenario.target) {
      await mkdir(target.app.home);
      await materialize(target.app.home, scenario.target, outside);
    }
    const home = target.app.home;
    const homeRelative = path.relative(root, home).split(path.sep).join("/");
    // The home's parent changes (renames happen in it), and the home is what the restore changes.
    const outsideHome = (relative: string) => under(relative, homeRelative);
    const sentinelOf = () => {
      const all = facts(root, outsideHome);
      all.delete(path.dirname(homeRelative));
      return all;
    };
    const sentinelBefore = sentinelOf();
    const homeBefore = scenario.into === "same app" || scenario.target ? facts(home) : undefined;

    const kept = homeBefore ? keptPaths(homeBefore, matches) : [];
    const blocked = kept.some((relative) => ancestorsOf(relative).some((parent) => backedUp.has(parent) && !isDir(backedUp.get(parent))));
    const expected = new Map<string, string>();
    for (const [relative, fact] of backedUp) if (!kept.some((top) => under(relative, top))) expected.set(relative, fact);
    for (const top of kept) {
      for (const [relative, fact] of homeBefore!) if (under(relative, top)) expected.set(relative, fact);
      for (const parent of ancestorsOf(top)) if (!expected.has(parent)) expected.set(parent, homeBefore!.get(parent)!);
    }

    const restore = async (dryRun: boolean) => {
      try {
        return await runRestore(source, { backup: "latest", target: scenario.into === "another app" ? target : undefined, dryRun });
      } catch (error) {
        if (error instanceof AppBackupError) return error;
        throw error;
      }
    };
    const listed = (tree: Map<string, string>) => [...tree].map(([relative, fact]) => (isDir(fact) ? `${relative}/` : relative)).sort();

    const plan = await restore(true);
    expect(sentinelOf(), "a dry run changes nothing outside the home").toEqual(sentinelBefore);
    if (homeBefore) expect(facts(home), "a dry run changes nothing in the home").toEqual(homeBefore);
    if (blocked) {
      expect(plan, "the dry run reports the refusal").toBeInstanceOf(AppBackupError);
    } else {
      if (plan instanceof AppBackupError) throw plan;
      const written = new Map([...backedUp].filter(([relative]) => !kept.some((top) => under(relative, top))));
      const deleted = new Map([...(homeBefore ?? [])].filter(([relative]) => !kept.some((top) => under(relative, top)) && !written.has(relative)));
      expect({ written: [...plan.written].sort(), deleted: [...plan.deleted].sort(), kept: [...plan.keptByFilter].sort() }, "the dry run's plan").toEqual({
        written: listed(written),
        deleted: listed(deleted),
        kept,
      });
    }

    const outcome = await restore(false);

    expect(sentinelOf(), "outside the target home").toEqual(sentinelBefore);
    if (blocked) {
      expect(outcome, "a kept path under a link or file of the backup refuses the restore").toBeInstanceOf(AppBackupError);
      expect((outcome as AppBackupError).message).toMatch(/is refused: .*Nothing was changed\./s);
      if (homeBefore) expect(facts(home), "a refused restore changes nothing").toEqual(homeBefore);
      else expect(() => lstatSync(home)).toThrow();
    } else {
      if (outcome instanceof AppBackupError) throw outcome;
      expect(outcome.status).toBe("Succeeded");
      expect([...outcome.keptByFilter].sort()).toEqual(kept);
      expect(facts(home), "the restored home").toEqual(expected);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const at = 1_700_000_000_000;
const file = (content: string): Node => ({ kind: "file", content, mode: 0o644, mtime: at });
const folder = (children: Record<string, Node>): Node => ({ kind: "dir", mode: 0o755, mtime: at - 86_400_000, children });
const link = (target: string): Node => ({ kind: "link", target, mtime: at });

describe("restore confinement, for any trees, links and filter lines", () => {
  it("never changes anything outside the target home, and leaves the home as the backup plus what the filter keeps", async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, checkScenario), { seed, numRuns });
  }, 600_000);

  it.each<[string, Scenario]>([
    [
      "a kept path under a folder the backup has as a symlink out of the home",
      { source: { site: link(`${OUTSIDE}/releases/r1`) }, target: { site: folder({ uploads: folder({ "user.dat": file("upload") }) }) }, filter: ["site/uploads"], into: "another app" },
    ],
    ["a kept path under a folder the backup has as a file", { source: { a: file("") }, target: { a: folder({ b: file("") }) }, filter: ["a/b", "**/uploads"], into: "same app" }],
    [
      "a kept path whose parents the backup lacks: they are made like the target's, and the backup's folder above keeps its time",
      { source: { site: folder({ "index.html": file("page") }) }, target: { site: folder({ data: folder({ cache: folder({ x: file("cached") }) }) }) }, filter: ["site/data/cache"], into: "another app" },
    ],
    [
      "two kept paths in one folder the backup lacks",
      { source: {}, target: { a: folder({ b: folder({}), a: link("../outside/d1") }) }, filter: ["a/*"], into: "same app" },
    ],
  ])("%s", async (_what, scenario) => {
    await checkScenario(scenario);
  });
});
