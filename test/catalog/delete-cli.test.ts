import { existsSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { claimNameOf } from "../../core/backup/reserve-name.js";
import { withAppLock } from "../../core/schedule/lock.js";
import { LocalStore } from "../../core/store/local.js";
import { makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";

const objectsOf = (app: ScheduledApp, name: string) => [".xml", ".zip", ".log"].filter((ext) => existsSync(path.join(app.backups, `${name}${ext}`)));

async function appWithBackup(): Promise<{ app: ScheduledApp; name: string }> {
  const app = await makeScheduledApp();
  const { name } = await ok(app, ["backup"]);
  return { app, name };
}

/** Runs the CLI in this process with a terminal that answers `answer`. */
async function onTerminal(args: string[], answer: string) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c) => (out += c));
  stderr.on("data", (c) => {
    err += c;
    // Answer once the question is asked.
    if (String(c).includes("[y/N]")) stdin.end(`${answer}\n`);
  });
  const code = await main(args, { stdin, stdout, stderr: stderr as unknown as NodeJS.WriteStream, env: process.env });
  return { code, stdout: out, stderr: err };
}

describe("delete", () => {
  it("removes the manifest, zip and log with --yes, and says which with --json", async () => {
    const { app, name } = await appWithBackup();
    const run = await ok(app, ["delete", name, "--yes"]);
    expect(run).toEqual({ backup: name, app: "shop", deleted: true, removed: [`${name}.xml`, `${name}.zip`, `${name}.log`] });
    expect(objectsOf(app, name)).toEqual([]);
    expect(await ok(app, ["list"])).toEqual([]);
  });

  it("refuses a name outside the app's naming scheme and an unknown backup, deleting nothing", async () => {
    const { app, name } = await appWithBackup();
    const foreign = await app.run(["delete", "other_20300101000000", "--yes", "--json"]);
    expect(foreign.code).toBe(2);
    expect(foreign.json.error.code).toBe("USAGE");
    expect(foreign.stderr).toContain("they are named shop_…");
    const unknown = await app.run(["delete", "shop_20200101000000", "--yes", "--json"]);
    expect(unknown.code).toBe(12);
    expect(unknown.json.error.code).toBe("BACKUP_NOT_FOUND");
    expect(objectsOf(app, name)).toEqual([".xml", ".zip", ".log"]);
  });

  it("refuses without --yes when there is no terminal to ask on", async () => {
    const { app, name } = await appWithBackup();
    const run = await app.run(["delete", name, "--json"]);
    expect(run.code).toBe(2);
    expect(run.json.error.code).toBe("USAGE");
    expect(run.stderr).toContain("Pass --yes to delete it without being asked.");
    expect(objectsOf(app, name)).toEqual([".xml", ".zip", ".log"]);
  });

  it("on a terminal, shows what will be removed and deletes only when the answer is yes", async () => {
    const { app, name } = await appWithBackup();
    const declined = await onTerminal(["delete", name, "--config", app.config], "n");
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain(`This deletes backup ${name} for good:`);
    expect(declined.stderr).toContain(`${name}.zip`);
    expect(declined.stdout).toContain("Nothing was deleted.");
    expect(objectsOf(app, name)).toEqual([".xml", ".zip", ".log"]);

    const accepted = await onTerminal(["delete", name, "--config", app.config], "yes");
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`Deleted backup ${name}:`);
    expect(objectsOf(app, name)).toEqual([]);
  });

  it("refuses while another runner holds the app's lock, or a backup is writing that name", async () => {
    const { app, name } = await appWithBackup();
    const store = new LocalStore(app.backups);
    await withAppLock(store, "shop", async () => {
      const run = await app.run(["delete", name, "--yes", "--json"]);
      expect(run.code).toBe(75);
      expect(run.json.error.code).toBe("LOCKED");
      expect(run.stderr).toContain("Another runner holds the lock of shop");
    }, { purpose: "prune of shop" });
    expect(objectsOf(app, name)).toEqual([".xml", ".zip", ".log"]);

    const claim = await store.locker.tryLock(claimNameOf(name), { ttlMs: 60_000, holder: "OnDemand backup of shop" });
    expect(claim.acquired).toBe(true);
    const writing = await app.run(["delete", name, "--yes", "--json"]);
    expect(writing.code).toBe(75);
    expect(writing.stderr).toContain(`A backup named ${name} is being written`);
    expect(objectsOf(app, name)).toEqual([".xml", ".zip", ".log"]);
    if (claim.acquired) await claim.lock.discard();
    await ok(app, ["delete", name, "--yes"]);
    expect(objectsOf(app, name)).toEqual([]);
  });
});
