import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { recoverInterruptedRestore } from "../../core/restore/switch.js";
import { runCli } from "../support/cli.js";
import { leftovers, treeFacts } from "../support/test-app.js";

/**
 * A source app whose `site` is a symlink to a release folder outside its home
 * (a common deployment layout), backed up with the filter line `site/uploads`,
 * and a target app whose `site/uploads` is a real folder holding user data.
 */
async function releaseLinkedApps(options: { siteAs?: "link" | "file" } = {}) {
  const root = await mkdtemp(path.join(os.tmpdir(), "restore-confinement-"));
  const releases = path.join(root, "releases/r1");
  await mkdir(path.join(releases, "wwwroot"), { recursive: true });
  await writeFile(path.join(releases, "wwwroot/index.html"), "release one");

  const source = { home: path.join(root, "src/home"), config: path.join(root, "src/app-backup.yml") };
  await mkdir(path.join(source.home, "data"), { recursive: true });
  await writeFile(path.join(source.home, "data/settings.json"), "{}");
  if (options.siteAs === "file") await writeFile(path.join(source.home, "site"), "site is a file here");
  else await symlink(releases, path.join(source.home, "site"));
  await writeFile(source.config, `name: src\nhome: ./home\nbackup:\n  storage: "file:../store"\n  filter: ["site/uploads"]\n`);

  const target = { home: path.join(root, "tgt/home"), config: path.join(root, "tgt/app-backup.yml") };
  await mkdir(path.join(target.home, "site/uploads"), { recursive: true });
  await writeFile(path.join(target.home, "site/uploads/user.dat"), "a user's upload");
  await writeFile(path.join(target.home, "site/old.html"), "old page");
  await utimes(path.join(target.home, "site/uploads"), new Date("2024-01-01T00:00:00Z"), new Date("2024-01-01T00:00:00Z"));
  await writeFile(target.config, `name: tgt\nhome: ./home\nbackup:\n  storage: "file:../tgt-store"\n`);

  const backup = await runCli(["backup", "--config", source.config, "--json"]);
  expect(backup.code, backup.stderr).toBe(0);
  return { root, releases, source, target };
}

describe("a restore never moves anything out of the target home", () => {
  it("refuses, changing nothing, when a kept path would end up under a symlink of the backup", async () => {
    const { root, releases, source, target } = await releaseLinkedApps();
    const outsideBefore = treeFacts(path.join(root, "releases"));
    const targetBefore = treeFacts(target.home);

    const dryRun = await runCli(["restore", "latest", "--config", source.config, "--to", target.config, "--dry-run", "--json"]);
    expect(dryRun.code).toBe(1);
    expect(dryRun.json).toMatchObject({ status: "Error", error: { code: "RESTORE" } });
    expect(dryRun.stderr).toContain("site/uploads (matched by the backup's filter) is under site, which the backup restores as a symlink");

    const run = await runCli(["restore", "latest", "--config", source.config, "--to", target.config, "--json"]);
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({ status: "Error", error: { code: "RESTORE" } });
    expect(run.stderr).toContain(`a symlink (to ${JSON.stringify(releases)})`);
    expect(run.stderr).toMatch(/Nothing was changed\./);
    expect(run.stderr).toMatch(/Move those paths out of the home/);

    expect(existsSync(path.join(releases, "uploads"))).toBe(false);
    expect(treeFacts(path.join(root, "releases"))).toEqual(outsideBefore);
    expect(treeFacts(target.home)).toEqual(targetBefore);
    expect(leftovers(target.home)).toEqual([]);
  });

  it("refuses the same way when the backup has a file where a kept path needs a folder", async () => {
    const { target, source } = await releaseLinkedApps({ siteAs: "file" });
    const targetBefore = treeFacts(target.home);
    const run = await runCli(["restore", "latest", "--config", source.config, "--to", target.config, "--json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("site/uploads (matched by the backup's filter) is under site, which the backup restores as a file");
    expect(treeFacts(target.home)).toEqual(targetBefore);
    expect(leftovers(target.home)).toEqual([]);
  });

  it("restores once the kept path is gone from the target: the backup's link is put in place, the release folder untouched", async () => {
    const { root, releases, source, target } = await releaseLinkedApps();
    const outsideBefore = treeFacts(path.join(root, "releases"));
    await rename(path.join(target.home, "site/uploads"), path.join(root, "tgt/uploads-moved-aside"));
    const run = await runCli(["restore", "latest", "--config", source.config, "--to", target.config, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ status: "Succeeded", keptByFilter: [] });
    expect(treeFacts(target.home)).toEqual({ "data/": expect.any(String), "data/settings.json": expect.any(String), site: `link -> ${releases}` });
    expect(treeFacts(path.join(root, "releases"))).toEqual(outsideBefore);
  });
});

describe("a restore journal is acted upon only for the home it records", () => {
  /** Two apps side by side; `victim` has a staged tree beside its home, as a restore in progress would. */
  async function twoHomes() {
    const root = await mkdtemp(path.join(os.tmpdir(), "restore-journal-"));
    const victim = path.join(root, "victim/home");
    const app = path.join(root, "app/home");
    await mkdir(path.join(victim, "site"), { recursive: true });
    await writeFile(path.join(victim, "site/index.html"), "the victim's live site");
    await mkdir(path.join(app, "site"), { recursive: true });
    await writeFile(path.join(app, "site/index.html"), "this app's site");
    const id = "0123456789ab";
    await mkdir(`${victim}.restore-${id}`);
    await writeFile(`${victim}.restore-${id}/planted.html`, "planted");
    await writeFile(
      path.join(root, "app/app-backup.yml"),
      `name: app\nhome: ./home\nbackup:\n  storage: "file:../store"\n`,
    );
    return { root, victim, app, id, config: path.join(root, "app/app-backup.yml") };
  }

  const journalFor = (home: string, id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ formatVersion: 1, id, backup: "app_20260101000000", home, pid: 2 ** 22 + 1, host: os.hostname(), startedAt: "2026-01-01T00:00:00.000Z", phase: "switching", kept: [], databasesRestored: [], ...extra });

  it("refuses a journal recording another home, and touches neither home", async () => {
    const { root, victim, app, id } = await twoHomes();
    await writeFile(`${app}.restore.json`, journalFor(victim, id));
    const before = treeFacts(root);

    await expect(recoverInterruptedRestore(app)).rejects.toMatchObject({
      code: "RESTORE",
      message: expect.stringContaining(`records the home ${JSON.stringify(victim)}, not ${app}: it was not written by a restore of this home, so it was not acted upon and nothing was changed`),
    });
    expect(treeFacts(root)).toEqual(before);
  });

  it("the CLI refuses it too before anything changes, in a restore and in a dry run", async () => {
    const { root, victim, app, id, config } = await twoHomes();
    await mkdir(path.join(root, "store"));
    const backup = await runCli(["backup", "--config", config, "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    await writeFile(`${app}.restore.json`, journalFor(victim, id, { phase: "staging" }));
    const before = treeFacts(root);
    for (const extra of [[], ["--dry-run"]]) {
      const run = await runCli(["restore", "latest", "--config", config, "--json", ...extra]);
      expect(run.code).toBe(1);
      expect(run.json).toMatchObject({ status: "Error", error: { code: "RESTORE" } });
      expect(run.stderr).toContain("it was not written by a restore of this home");
      expect(treeFacts(root)).toEqual(before);
    }
  });

  it("does not complete a switch whose staged tree has a symlink where a kept path must go, and moves nothing", async () => {
    const { root, app, id } = await twoHomes();
    const elsewhere = path.join(root, "elsewhere");
    await mkdir(elsewhere);
    await mkdir(path.join(app, "site/uploads"));
    await writeFile(path.join(app, "site/uploads/user.dat"), "a user's upload");
    await mkdir(`${app}.restore-${id}`);
    await symlink(elsewhere, `${app}.restore-${id}/site`);
    await writeFile(`${app}.restore.json`, journalFor(app, id, { kept: ["site/uploads"] }));
    const before = treeFacts(root);

    await expect(recoverInterruptedRestore(app)).rejects.toMatchObject({
      code: "RESTORE",
      message: expect.stringContaining("the restored tree has site as a symlink, so the kept path site/uploads cannot be moved into it without leaving the home. Nothing was moved."),
    });
    expect(treeFacts(root)).toEqual(before);
    expect(existsSync(path.join(elsewhere, "uploads"))).toBe(false);
  });

  it.each([
    ["an id that is a path", { id: "../../victim" }, /the id is not 12 hex digits/],
    ["a kept path leaving the home", { kept: ["site/../../victim"] }, /the kept path "site\/..\/..\/victim" is not a path inside the home/],
    ["an absolute kept path", { kept: ["/etc"] }, /the kept path "\/etc" is not a path inside the home/],
    ["a relative home", { home: "home" }, /the home is not an absolute path/],
  ])("refuses a journal with %s as damaged, changing nothing", async (_what, extra, problem) => {
    const { root, app, id } = await twoHomes();
    await mkdir(`${app}.restore-${id}`);
    await writeFile(`${app}.restore.json`, journalFor(app, id, extra));
    const before = treeFacts(root);
    await expect(recoverInterruptedRestore(app)).rejects.toMatchObject({ code: "RESTORE", message: expect.stringMatching(problem) });
    expect(treeFacts(root)).toEqual(before);
  });
});
