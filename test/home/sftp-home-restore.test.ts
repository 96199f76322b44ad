import { createHash } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import type { RemoteRestoreJournal } from "../../core/home/home.js";
import { parseSftpAddress } from "../../core/home/sftp/address.js";
import { openSftpHome } from "../../core/home/sftp/connection.js";
import { openSftpHomeAccess, type SftpHomeAccess } from "../../core/home/sftp/sftp-home.js";
import { SftpRestoreTarget } from "../../core/home/sftp/sftp-restore-target.js";
import { startSshd, type TestSshd } from "../support/sshd.js";
import { startTcpCutProxy, type TcpCutProxy } from "../support/tcp-cut-proxy.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (the failure report names the seed). */
const seed = Number(process.env.FC_SEED ?? 20261207);

let sshd: TestSshd;
let proxy: TcpCutProxy;
let folder: string;
let knownHosts: string;
let caseCounter = 0;
const opened: SftpHomeAccess[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  proxy = await startTcpCutProxy(sshd.port);
  folder = mkdtempSync(path.join(os.tmpdir(), "sftp-home-restore-"));
  knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n${sshd.hostKeyLine.replace(`:${sshd.port} `, `:${proxy.port} `)}\n`);
});

afterAll(async () => {
  await Promise.all(opened.splice(0).map((access) => access.close()));
  await proxy?.close();
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function openAccess(home: string, port = sshd.port): Promise<SftpHomeAccess> {
  const access = await openSftpHomeAccess({ kind: "sftp", address: parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${port}${home}`), privateKeyFile: sshd.clientKeyPath, knownHosts });
  opened.push(access);
  return access;
}

type Tree = Record<string, string | { link: string } | { folder: true; mode?: number } | { content: string; mode: number }>;

/** Writes a tree: a string is a file's content, `{ link }` a symlink, `{ folder }` an (empty) folder. */
function writeTree(root: string, tree: Tree): void {
  mkdirSync(root, { recursive: true });
  const stamp = new Date("2025-06-07T08:09:10Z");
  for (const [relative, what] of Object.entries(tree)) {
    const absolute = path.join(root, relative);
    mkdirSync(path.dirname(absolute), { recursive: true });
    if (typeof what === "string") writeFileSync(absolute, what);
    else if ("link" in what) symlinkSync(what.link, absolute);
    else if ("folder" in what) mkdirSync(absolute, { recursive: true });
    else {
      writeFileSync(absolute, what.content);
      chmodSync(absolute, what.mode);
    }
    if (!("link" in (typeof what === "string" ? {} : what))) utimesSync(absolute, stamp, stamp);
  }
  // Every folder stamped too, deepest first, so that two trees written from one description are alike.
  const folders: string[] = [];
  const collect = (absolute: string) => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) if (entry.isDirectory()) collect(path.join(absolute, entry.name));
    folders.push(absolute);
  };
  collect(root);
  for (const absolute of folders) utimesSync(absolute, stamp, stamp);
  for (const [relative, what] of Object.entries(tree)) {
    if (typeof what === "object" && "folder" in what && what.mode !== undefined) chmodSync(path.join(root, relative), what.mode);
  }
}

/** Everything under `root` as a user sees it: kind, mode, content (or link target), and file and folder times to the second. */
function snapshot(root: string): Record<string, string> {
  const seen: Record<string, string> = {};
  const visit = (absolute: string, relative: string) => {
    const info = lstatSync(absolute);
    const mode = (info.mode & 0o7777).toString(8);
    const time = Math.floor(info.mtimeMs / 1000);
    if (info.isSymbolicLink()) seen[relative] = `link -> ${readlinkSync(absolute)}`;
    else if (info.isFile()) seen[relative] = `file ${mode} ${time} ${createHash("sha256").update(readFileSync(absolute)).digest("hex").slice(0, 16)}`;
    else if (info.isDirectory()) {
      seen[relative] = `folder ${mode} ${time}`;
      for (const name of readdirSync(absolute).sort()) visit(path.join(absolute, name), relative ? `${relative}/${name}` : name);
    } else seen[relative] = "other";
  };
  visit(root, "");
  return seen;
}

/** A fresh case: a parent folder holding the home and a neighbour that must never change. */
function newCase(oldHome: Tree | undefined, staged: Tree) {
  const parent = path.join(folder, `case-${++caseCounter}`);
  const home = path.join(parent, "home");
  mkdirSync(parent, { recursive: true });
  writeTree(path.join(parent, "neighbour"), { "n.txt": "next door" });
  writeFileSync(path.join(parent, "home-other.txt"), "a sibling whose name starts like the home's");
  if (oldHome) writeTree(home, oldHome);
  const stagedTree = path.join(folder, `staged-${caseCounter}`);
  writeTree(stagedTree, staged);
  return { parent, home, stagedTree };
}

function journalFor(id: string, kept: string[], overrides: Partial<RemoteRestoreJournal> = {}): RemoteRestoreJournal {
  return {
    formatVersion: 1,
    id,
    backup: "shop_20260101020304",
    home: "set by the target",
    host: os.hostname(),
    pid: process.pid,
    startedAt: "2026-12-07T02:03:04.000Z",
    phase: "staging",
    kept,
    databasesRestored: [],
    ...overrides,
  };
}

const siblings = (parent: string) => readdirSync(parent).sort();

/** A pid that no process has any more: a child that has exited. */
function deadPid(): number {
  return spawnSync("true").pid!;
}

describe("the SFTP home as a restore target", () => {
  const oldHome: Tree = {
    "site/wwwroot/index.html": "old index",
    "site/wwwroot/uploads/photo.jpg": "kept photo",
    "site/wwwroot/uploads/deep/doc.pdf": "kept doc",
    "logs/app.log": "kept log",
    "stale.txt": "goes away",
  };
  const staged: Tree = {
    "site/wwwroot/index.html": "new index",
    "site/wwwroot/run.sh": { content: "#!/bin/sh\n", mode: 0o750 },
    "site/wwwroot/readonly": { folder: true, mode: 0o555 },
    "empty": { folder: true },
    "site/link": { link: "wwwroot/index.html" },
  };
  const kept = ["site/wwwroot/uploads", "logs"];

  it("uploads the staged tree beside the home and switches it in, carrying the kept paths over", async () => {
    const { parent, home, stagedTree } = newCase(oldHome, staged);
    const keptBefore = snapshot(path.join(home, "site/wwwroot/uploads"));
    const neighbourBefore = snapshot(path.join(parent, "neighbour"));
    const access = await openAccess(home);
    const current = await access.listCurrent({});
    expect(current.exists).toBe(true);
    expect([...current.walk.entries].map((entry) => entry.path)).toContain("site/wwwroot/uploads/deep/doc.pdf");
    current.walk.entries.close();

    const journal = journalFor("0123456789ab", kept);
    await access.begin(journal);
    expect(siblings(parent)).toEqual(["home", "home-other.txt", "home.restore.json", "neighbour"]);
    const progress: number[] = [];
    await access.upload(stagedTree, { onProgress: (bytes) => progress.push(bytes) });
    expect(snapshot(path.join(parent, "home.restore-0123456789ab"))).toEqual(snapshot(stagedTree));
    expect(progress.at(-1)).toBe("new index".length + "#!/bin/sh\n".length);
    expect(snapshot(home)["stale.txt"]).toBeDefined();

    await access.switchTo({ ...journal, phase: "switching" });
    expect(siblings(parent)).toEqual(["home", "home-other.txt", "neighbour"]);
    const expected = snapshot(stagedTree);
    const after = snapshot(home);
    const keptPaths = Object.keys(after).filter((p) => p.startsWith("site/wwwroot/uploads") || p.startsWith("logs"));
    expect(Object.fromEntries(Object.entries(after).filter(([p]) => !keptPaths.includes(p)))).toEqual(expected);
    expect(Object.fromEntries(Object.entries(snapshot(path.join(home, "site/wwwroot/uploads"))))).toEqual(keptBefore);
    expect(readFileSync(path.join(home, "logs/app.log"), "utf8")).toBe("kept log");
    expect(existsSync(path.join(home, "stale.txt"))).toBe(false);
    expect(await access.pendingJournal()).toBeUndefined();
    expect(snapshot(path.join(parent, "neighbour"))).toEqual(neighbourBefore);
  });

  it("rolls back an upload: the home is byte for byte as it was, and nothing is left beside it", async () => {
    const { parent, home, stagedTree } = newCase(oldHome, staged);
    const before = snapshot(home);
    const neighbourBefore = snapshot(path.join(parent, "neighbour"));
    const access = await openAccess(home);
    const journal = journalFor("aaaaaaaaaaaa", kept);
    await access.begin(journal);
    await access.upload(stagedTree, {});
    await access.rollBack(journal);
    expect(snapshot(home)).toEqual(before);
    expect(siblings(parent)).toEqual(["home", "home-other.txt", "neighbour"]);
    expect(snapshot(path.join(parent, "neighbour"))).toEqual(neighbourBefore);
  });

  it("restores into a home that does not exist yet, and refuses a home whose parent does not exist", async () => {
    const { parent, home, stagedTree } = newCase(undefined, staged);
    const access = await openAccess(home);
    const current = await access.listCurrent({});
    expect(current.exists).toBe(false);
    expect(current.walk.entries.length).toBe(0);
    const journal = journalFor("bbbbbbbbbbbb", []);
    await access.begin(journal);
    await access.upload(stagedTree, {});
    await access.switchTo(journal);
    expect(snapshot(home)).toEqual(snapshot(stagedTree));
    expect(siblings(parent)).toEqual(["home", "home-other.txt", "neighbour"]);

    const orphan = await openAccess(path.join(parent, "no-such-folder", "home"));
    const refusal = await orphan.begin(journalFor("cccccccccccc", [])).catch((caught: unknown) => caught);
    expect(refusal).toBeInstanceOf(AppBackupError);
    expect((refusal as AppBackupError).code).toBe("HOME_MISSING");
    expect((refusal as AppBackupError).message).toContain(`${parent}/no-such-folder that would hold the home`);
    expect(existsSync(path.join(parent, "no-such-folder"))).toBe(false);
  });

  it("refuses the server's root folder as a home", async () => {
    const session = await openSftpHome({ address: { ...parseSftpAddress(`sftp://${sshd.user}@127.0.0.1:${sshd.port}/tmp`), path: "/" }, privateKeyFile: sshd.clientKeyPath, knownHosts });
    try {
      const target = new SftpRestoreTarget(session);
      const refusal = await target.begin(journalFor("dddddddddddd", [])).catch((caught: unknown) => caught);
      expect((refusal as AppBackupError).code).toBe("USAGE");
      expect((refusal as AppBackupError).message).toContain("cannot be /");
    } finally {
      await session.close();
    }
  });

  it("refuses a second restore while the first may be running, and one whose journal another host wrote", async () => {
    const { home } = newCase(oldHome, staged);
    const access = await openAccess(home);
    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      await access.begin(journalFor("eeeeeeeeeeee", kept, { pid: sleeper.pid! }));
      const second = await access.begin(journalFor("ffffffffffff", kept)).catch((caught: unknown) => caught);
      expect(second).toBeInstanceOf(AppBackupError);
      expect((second as AppBackupError).code).toBe("LOCKED");
      expect((second as AppBackupError).message).toContain(`started 2026-12-07T02:03:04.000Z by process ${sleeper.pid}`);
      const recovered = await access.recover().catch((caught: unknown) => caught);
      expect((recovered as AppBackupError).code).toBe("LOCKED");
    } finally {
      sleeper.kill("SIGKILL");
    }
    const journalPath = `${home}.restore.json`;
    writeFileSync(journalPath, JSON.stringify({ ...journalFor("eeeeeeeeeeee", kept), host: "another-host.example", pid: deadPid(), home: access.description }));
    const fromElsewhere = await access.begin(journalFor("ffffffffffff", kept)).catch((caught: unknown) => caught);
    expect((fromElsewhere as AppBackupError).code).toBe("LOCKED");
    expect((fromElsewhere as AppBackupError).message).toContain("on another-host.example");
    expect(readFileSync(journalPath, "utf8")).toContain("another-host.example");
  });

  it("refuses a damaged journal or one that records another home, and changes nothing", async () => {
    const { parent, home } = newCase(oldHome, staged);
    const access = await openAccess(home);
    writeFileSync(`${home}.restore.json`, "{ not json");
    const before = snapshot(parent);
    expect(((await access.recover().catch((caught: unknown) => caught)) as AppBackupError).message).toContain("is damaged (it is not JSON)");
    writeFileSync(`${home}.restore.json`, JSON.stringify(journalFor("abcabcabcabc", ["../outside"], { home: access.description })));
    expect(((await access.recover().catch((caught: unknown) => caught)) as AppBackupError).message).toContain('the kept path "../outside" is not a path inside the home');
    writeFileSync(`${home}.restore.json`, JSON.stringify(journalFor("abcabcabcabc", [], { home: `sftp://someone@elsewhere:22/srv/other` })));
    expect(((await access.recover().catch((caught: unknown) => caught)) as AppBackupError).message).toContain("records the home");
    writeFileSync(`${home}.restore.json`, "{ not json");
    expect(snapshot(parent)).toEqual(before);
  });

  describe("recover finishes a switch cut at any step", () => {
    /** The steps of a switch, as a cut may leave them: each is done to the files directly, as the server's file system would have it. */
    const stepsDone: Array<{ name: string; phase: RemoteRestoreJournal["phase"]; apply: (home: string, tree: string) => void; expect: "completed" | "rolled back" }> = [
      { name: "uploaded, switch not yet recorded", phase: "staging", apply: () => {}, expect: "rolled back" },
      { name: "switch recorded, nothing moved", phase: "switching", apply: () => {}, expect: "completed" },
      { name: "one kept path moved", phase: "switching", apply: (home, tree) => renameSync(path.join(home, "logs"), path.join(tree, "logs")), expect: "completed" },
      {
        name: "kept paths moved, old home set aside",
        phase: "switching",
        apply: (home, tree) => {
          renameSync(path.join(home, "logs"), path.join(tree, "logs"));
          renameSync(path.join(home, "site/wwwroot/uploads"), path.join(tree, "site/wwwroot/uploads"));
          renameSync(home, `${tree}.old`);
        },
        expect: "completed",
      },
      {
        name: "new home in place, cleaning not recorded",
        phase: "switching",
        apply: (home, tree) => {
          renameSync(path.join(home, "logs"), path.join(tree, "logs"));
          renameSync(path.join(home, "site/wwwroot/uploads"), path.join(tree, "site/wwwroot/uploads"));
          renameSync(home, `${tree}.old`);
          renameSync(tree, home);
        },
        expect: "completed",
      },
      {
        name: "cleaning recorded, old home half deleted",
        phase: "cleaning",
        apply: (home, tree) => {
          renameSync(path.join(home, "logs"), path.join(tree, "logs"));
          renameSync(path.join(home, "site/wwwroot/uploads"), path.join(tree, "site/wwwroot/uploads"));
          renameSync(home, `${tree}.old`);
          renameSync(tree, home);
          rmSync(`${tree}.old/site`, { recursive: true });
        },
        expect: "completed",
      },
    ];

    for (const step of stepsDone) {
      it(step.name, async () => {
        const { parent, home, stagedTree } = newCase(oldHome, staged);
        const before = snapshot(home);
        const access = await openAccess(home);
        const journal = journalFor("123123123123", kept, { pid: deadPid() });
        await access.begin(journal);
        await access.upload(stagedTree, {});
        if (step.phase !== "staging") await access.record({ ...journal, phase: step.phase });
        step.apply(home, `${home}.restore-123123123123`);

        const recovery = await access.recover();
        expect(recovery).toEqual({ backup: journal.backup, startedAt: journal.startedAt, action: step.expect, databasesRestored: [] });
        expect(siblings(parent)).toEqual(["home", "home-other.txt", "neighbour"]);
        if (step.expect === "rolled back") {
          expect(snapshot(home)).toEqual(before);
        } else {
          expect(readFileSync(path.join(home, "site/wwwroot/index.html"), "utf8")).toBe("new index");
          expect(readFileSync(path.join(home, "site/wwwroot/uploads/deep/doc.pdf"), "utf8")).toBe("kept doc");
          expect(readFileSync(path.join(home, "logs/app.log"), "utf8")).toBe("kept log");
          expect(existsSync(path.join(home, "stale.txt"))).toBe(false);
        }
        expect(await access.recover()).toBeUndefined();
      });
    }

    it("when the connection itself is cut, at many points of the switch", async () => {
      // How many bytes the server sends during one whole switch, measured through the proxy.
      const measure = newCase(oldHome, staged);
      const measuring = await openAccess(measure.home, proxy.port);
      const measured = journalFor("456456456456", kept);
      await measuring.begin(measured);
      await measuring.upload(measure.stagedTree, {});
      const start = proxy.bytesFromServer;
      await measuring.switchTo(measured);
      const switchBytes = proxy.bytesFromServer - start;
      expect(switchBytes).toBeGreaterThan(500);

      const switched = snapshot(measure.home);
      let cut = 0;
      const actions = new Set<string>();
      for (let at = 40; at < switchBytes; at += Math.max(40, Math.floor(switchBytes / 14))) {
        const { parent, home, stagedTree } = newCase(oldHome, staged);
        const untouched = snapshot(home);
        const direct = await openAccess(home);
        const journal = journalFor("789789789789", kept);
        await direct.begin(journal);
        await direct.upload(stagedTree, {});
        const cutting = await openAccess(home, proxy.port);
        proxy.cutAfterServerBytes(at);
        const outcome = await cutting.switchTo(journal).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        proxy.cutAfterServerBytes(Number.MAX_SAFE_INTEGER);
        let action = "switched";
        if (outcome !== undefined) {
          cut++;
          expect((outcome as AppBackupError).code).toBe("HOME_UNREACHABLE");
          // Cut as the last answer came, nothing is left to do.
          action = (await direct.recover())?.action ?? "switched";
        }
        actions.add(action);
        // Cut before the switch was recorded, the restore is undone; after, it is finished. A cut
        // right after a kept path moved leaves the time of the folder that received it as the move set it.
        const receiving = (snap: Record<string, string>) => ({ ...snap, "": snap[""]!.replace(/ \d+$/, ""), "site/wwwroot": snap["site/wwwroot"]!.replace(/ \d+$/, "") });
        expect(receiving(snapshot(home))).toEqual(receiving(action === "rolled back" ? untouched : switched));
        expect(siblings(parent)).toEqual(["home", "home-other.txt", "neighbour"]);
      }
      expect(cut).toBeGreaterThan(5);
      expect(actions).toContain("completed");
      expect(actions).toContain("rolled back");
    });
  });

  it("property: after upload and switch the home is the staged tree plus the kept paths, and nothing else beside it changed", async () => {
    const name = fc.constantFrom("a", "b", "c", "d.txt", "e");
    const relative = fc.array(name, { minLength: 1, maxLength: 3 }).map((segments) => segments.join("/"));
    const content = fc.string({ maxLength: 40 });
    const tree = fc.dictionary(relative, content, { maxKeys: 8 });
    let run = 0;
    let runsKeeping = 0;
    await fc.assert(
      fc.asyncProperty(tree, tree, fc.array(fc.nat(), { maxLength: 4 }), async (oldFiles, stagedFiles, keptPicks) => {
        const oldTree = consistent(oldFiles);
        const stagedTree = consistent(stagedFiles);
        const { parent, home, stagedTree: stagedPath } = newCase(oldTree, stagedTree);
        const neighbourBefore = snapshot(path.join(parent, "neighbour"));
        const oldSnapshot = snapshot(home);
        const stagedSnapshot = snapshot(stagedPath);
        // Kept paths of the old home under no staged file; one the staged tree has too is left as staged.
        const oldPaths = Object.keys(oldSnapshot).filter((p) => p !== "");
        const keptCandidates = oldPaths.length ? keptPicks.map((pick) => oldPaths[pick % oldPaths.length]!) : [];
        const keptPaths = [...new Set(keptCandidates)].filter((candidate) => !blockedIn(stagedSnapshot, candidate));
        if (keptPaths.length > 0) runsKeeping++;
        const access = await openAccess(home);
        const journal = journalFor((++run).toString(16).padStart(12, "0"), keptPaths);
        await access.begin(journal);
        await access.upload(stagedPath, {});
        await access.switchTo(journal);

        const expected = expectedHome(stagedSnapshot, oldSnapshot, keptPaths);
        // Times are left out: the model does not know when folders were created.
        const withoutTimes = (description: string) => {
          const [kind, mode, , hash] = description.split(" ");
          return kind === "folder" ? "folder" : kind === "file" ? `file ${mode} ${hash}` : description;
        };
        const contentOnly = (snap: Record<string, string>) => Object.fromEntries(Object.entries(snap).filter(([p]) => p !== "").map(([p, v]) => [p, withoutTimes(v)]));
        expect(contentOnly(snapshot(home))).toEqual(contentOnly(expected));
        expect(siblings(parent)).toEqual(["home", "home-other.txt", "neighbour"]);
        expect(snapshot(path.join(parent, "neighbour"))).toEqual(neighbourBefore);
        expect(readFileSync(path.join(parent, "home-other.txt"), "utf8")).toBe("a sibling whose name starts like the home's");
        rmSync(parent, { recursive: true, force: true });
        rmSync(stagedPath, { recursive: true, force: true });
      }),
      { seed, numRuns: 25, verbose: true },
    );
    // The seed's trees must exercise the kept paths, not only plain uploads.
    expect(runsKeeping).toBeGreaterThan(5);
  });
});

/** Files of a random tree whose paths do not pass through one another (`a` a file and `a/b` another): what a file system can hold. */
function consistent(files: Record<string, string>): Tree {
  const tree: Tree = {};
  const paths = Object.keys(files).sort();
  for (const candidate of paths) {
    const clashes = Object.keys(tree).some((taken) => candidate.startsWith(`${taken}/`) || taken.startsWith(`${candidate}/`));
    if (!clashes) tree[candidate] = files[candidate]!;
  }
  return tree;
}

/** Whether the staged tree has something other than a folder where one of the path's folders would be (the switch then refuses). */
function blockedIn(staged: Record<string, string>, relative: string): boolean {
  const segments = relative.split("/");
  for (let depth = 1; depth < segments.length; depth++) {
    const prefix = segments.slice(0, depth).join("/");
    if (staged[prefix] !== undefined && !staged[prefix]!.startsWith("folder")) return true;
  }
  return false;
}

/** The model: the staged tree, then each kept path's subtree from the old home, in order, with the folders that lead to it. */
function expectedHome(staged: Record<string, string>, old: Record<string, string>, kept: string[]): Record<string, string> {
  const result = { ...staged };
  const remaining = { ...old };
  for (const relative of kept) {
    if (remaining[relative] === undefined || result[relative] !== undefined) continue;
    const segments = relative.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const prefix = segments.slice(0, depth).join("/");
      result[prefix] ??= "folder";
    }
    for (const candidate of Object.keys(remaining)) {
      if (candidate === relative || candidate.startsWith(`${relative}/`)) {
        result[candidate] = remaining[candidate]!;
        delete remaining[candidate];
      }
    }
  }
  return result;
}
