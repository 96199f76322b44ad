import { existsSync } from "node:fs";
import { readdir, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { manifestToXml } from "../../core/format/manifest-xml.js";
import { lockNameFor } from "../../core/schedule/lock.js";
import { pruneBackups } from "../../core/schedule/prune.js";
import { LocalStore } from "../../core/store/local.js";
import { makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";

const hour = 3_600_000;

/** Writes an object into the local container as last written `ageMs` ago. */
async function object(app: ScheduledApp, name: string, ageMs: number, data: string | Buffer = "partial zip bytes"): Promise<void> {
  const file = path.join(app.backups, name);
  await writeFile(file, data);
  const at = new Date(Date.now() - ageMs);
  await utimes(file, at, at);
}

/** A scheduled Failed backup's manifest as a backup writes it, except for what it claims. */
function manifest(claims: { backupName: string; zip?: string; startedAt: string }): string {
  const at = new Date(claims.startedAt);
  return manifestToXml({
    formatVersion: 1,
    appName: "shop",
    backupName: claims.backupName,
    status: claims.zip ? "Succeeded" : "Failed",
    trigger: "Scheduled",
    startedAt: at,
    finishedAt: at,
    toolVersion: "0.1.0",
    ...(claims.zip ? { zip: { name: claims.zip, sizeBytes: 10 } } : {}),
    contentBytes: 0,
    files: 0,
    ...(claims.zip ? {} : { error: "Database MainDb cannot be reached." }),
    origin: {},
    filter: { source: "", lines: [] },
    warnings: [],
    databases: [],
    skipped: [],
    entries: [],
  });
}

const present = async (app: ScheduledApp) => (await readdir(app.backups)).filter((n) => /\.(zip|xml|log)$/.test(n)).sort();

describe("prune: what unfinished backups left, and names that are not the app's", () => {
  it("deletes the app's day-old zips and logs without a manifest, reports them in the dry run, and leaves everything else alone", async () => {
    const app = await makeScheduledApp({
      schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 5 }",
    });
    await ok(app, ["configure"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-02T00:00:00Z"]);
    // Orphans: an interrupted backup's zip and log, and a same-second backup's zip.
    await object(app, "shop_20300103000000.zip", 72 * hour);
    await object(app, "shop_20300103000000.log", 71 * hour, "Backup started.\n");
    await object(app, "shop_20300104000000-2.zip", 30 * hour);
    // Not orphans: too young (a backup may still be writing it), another app's, not a stamped name.
    await object(app, "shop_20300105000000.zip", 2 * hour);
    await object(app, "shop_20300105000000.log", 2 * hour);
    await object(app, "other_20300101000000.zip", 72 * hour);
    await object(app, "shop_handmade.zip", 72 * hour);
    await object(app, "shopping_20300101000000.zip", 72 * hour);
    const before = await present(app);

    const dry = await ok(app, ["prune", "--dry-run", "--now", "2030-01-03T00:00:00Z"]);
    expect(dry.orphans.map((o: { name: string; objects: string[] }) => [o.name, o.objects])).toEqual([
      ["shop_20300103000000", ["shop_20300103000000.log", "shop_20300103000000.zip"]],
      ["shop_20300104000000-2", ["shop_20300104000000-2.zip"]],
    ]);
    expect(dry.orphans[0].reason).toMatch(/^No manifest, last written 3\.0 days ago/);
    expect(dry.backups.map((b: { name: string }) => b.name)).not.toContain("shop_20300103000000");
    expect(await present(app)).toEqual(before);
    const human = await app.run(["prune", "--dry-run", "--now", "2030-01-03T00:00:00Z"]);
    expect(human.stdout).toContain("Retention would delete what 2 unfinished backup(s) left:");
    expect(human.stdout).toContain("  shop_20300103000000.log, shop_20300103000000.zip: No manifest");

    const real = await ok(app, ["prune", "--now", "2030-01-03T00:00:00Z"]);
    expect(real.orphans.map((o: { name: string }) => o.name)).toEqual(["shop_20300103000000", "shop_20300104000000-2"]);
    expect(await present(app)).toEqual(
      before.filter((n) => !["shop_20300103000000.zip", "shop_20300103000000.log", "shop_20300104000000-2.zip"].includes(n)),
    );

    // run-scheduled prunes orphans too, and says so.
    await object(app, "shop_20300106000000.zip", 48 * hour);
    const scheduled = await ok(app, ["run-scheduled", "--now", "2030-01-03T00:00:00Z"]);
    expect(scheduled.prunedOrphans.map((o: { name: string }) => o.name)).toEqual(["shop_20300106000000"]);
    expect(existsSync(path.join(app.backups, "shop_20300106000000.zip"))).toBe(false);
  });

  it("deletes no orphan while another run holds the app's lock", async () => {
    const app = await makeScheduledApp();
    await ok(app, ["configure"]);
    await object(app, "shop_20300103000000.zip", 72 * hour);
    const attempt = await new LocalStore(app.backups).locker.tryLock(lockNameFor("shop"), { ttlMs: 60_000, holder: "a backup of shop" });
    expect(attempt.acquired).toBe(true);
    try {
      const run = await app.run(["prune", "--json"]);
      expect(run.code).toBe(75);
      expect(existsSync(path.join(app.backups, "shop_20300103000000.zip"))).toBe(true);
    } finally {
      if (attempt.acquired) await attempt.lock.release();
    }
    expect((await ok(app, ["prune"])).orphans.map((o: { name: string }) => o.name)).toEqual(["shop_20300103000000"]);
  });

  it("deletes only the app's stamped names, and skips with a warning a manifest that claims another name or zip", async () => {
    const app = await makeScheduledApp({
      schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 5 }",
    });
    await ok(app, ["configure"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-02T00:00:00Z"]);
    await ok(app, ["backup", "--name", "shop_precious"]);
    // A scheduled backup of shop by its manifest, but not under one of shop's stamped names.
    await writeFile(path.join(app.backups, "shop_custom.xml"), manifest({ backupName: "shop_custom", startedAt: "2030-01-01T06:00:00Z" }));
    await writeFile(path.join(app.backups, "shop_custom.log"), "kept\n");
    // Under a stamped name, claiming to be another backup with another zip.
    await writeFile(
      path.join(app.backups, "shop_20300101120000.xml"),
      manifest({ backupName: "shop_precious", zip: "shop_precious.zip", startedAt: "2030-01-01T12:00:00Z" }),
    );
    const before = await present(app);

    const run = await app.run(["prune", "--now", "2030-01-20T00:00:00Z", "--json"]);
    expect(run.code).toBe(0);
    const decisions = Object.fromEntries(run.json.backups.map((b: { name: string; action: string; rule: string }) => [b.name, `${b.action}:${b.rule}`]));
    expect(decisions).toEqual({
      shop_20300102000000: "keep:keep-at-least-one",
      shop_20300101000000: "delete:older-than-retention",
      shop_custom: "keep:not-own-name",
      shop_precious: "keep:on-demand",
    });
    expect(run.json.deleted).toEqual(["shop_20300101000000"]);
    expect(run.stderr).toMatch(/warning: shop_custom claims to be a scheduled backup of shop, but its name is not one of shop's/);
    expect(run.stderr).toMatch(/warning: Skipped \S*shop_20300101120000\.xml: .*names backup "shop_precious", not shop_20300101120000/);
    expect(await present(app)).toEqual(before.filter((n) => !n.startsWith("shop_20300101000000.")));
  });

  it("removes, by its rule, each kind of leftover older than a day and none younger; a dry run only lists them", async () => {
    const app = await makeScheduledApp({
      schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 0 }",
    });
    await ok(app, ["configure"]);
    const { name: finished } = (await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"])).backup;
    const leftovers: Array<[string, number, string]> = [
      ["shop_20300110000000.zip", 30, "zip-without-manifest"],
      ["shop_20300110010000.zip", 2, ""],
      ["shop_20300111000000.log", 30, "log-without-zip"],
      ["shop_20300111010000.log", 2, ""],
      ["claim.shop_20300112000000.txt.1", 30, "stale-claim"],
      ["claim.shop_20300112010000.txt.1", 2, ""],
      [`claim.${finished}.txt.3`, 30, "stale-claim"],
      [".partial-0a1b2c-shop_20300113000000.zip", 30, "partial-upload"],
      [".partial-3d4e5f-shop_20300113010000.zip", 2, ""],
      [".partial-0a1b2d-other_20300113000000.zip", 30, ""],
      [".metadata-shop_20300114000000.xml.json", 30, "record-without-object"],
      [".metadata-shop_20300114010000.xml.json", 2, ""],
      [".partial-6a7b8c-.metadata-shop_20300114020000.xml.json", 30, "partial-upload"],
      ["other_20300110000000.zip", 30, ""],
    ];
    for (const [name, hours] of leftovers) await object(app, name, hours * hour, name.startsWith("claim.") ? "{}" : "left behind");
    const expected = leftovers.filter(([, , rule]) => rule).map(([name, , rule]) => [name, rule]);
    const everything = async () => (await readdir(app.backups)).sort();
    const before = await everything();

    // In the process: the CLI's check of a local container clears temp files and records after six hours by itself.
    const store = new LocalStore(app.backups);
    const policy = { retentionPeriodInDays: 0, keepAtLeastOneBackup: true, tiered: false };
    const dry = await pruneBackups(store, "shop", policy, { dryRun: true });
    expect(dry.orphans.flatMap((o) => o.objects.map((object) => [object, o.rule])).sort()).toEqual(expected.sort());
    expect(await everything()).toEqual(before);
    // A young zip without a manifest may be a backup still running: listed, as Failed, and left alone.
    expect(dry.decisions.map((d) => [d.name, d.status, d.action])).toEqual([
      [finished, "Succeeded", "keep"],
      ["shop_20300110010000", "Failed", "keep"],
    ]);

    const real = await pruneBackups(store, "shop", policy);
    expect(real.failures).toEqual([]);
    expect(real.orphans.map((o) => o.rule).sort()).toEqual(expected.map(([, rule]) => rule).sort());
    expect(await everything()).toEqual(before.filter((n) => !expected.some(([name]) => name === n)));
    expect(objectsOfBackup(await everything(), finished)).toEqual([`${finished}.log`, `${finished}.xml`, `${finished}.zip`]);

    // The CLI says which rule matched, in JSON and in text.
    await object(app, "shop_20300111000000.log", 30 * hour);
    const json = await ok(app, ["prune", "--dry-run"]);
    expect(json.orphans).toEqual([expect.objectContaining({ name: "shop_20300111000000", rule: "log-without-zip", objects: ["shop_20300111000000.log"] })]);
    const text = await app.run(["prune", "--dry-run"]);
    expect(text.stdout).toMatch(/shop_20300111000000\.log: A log without a zip or manifest, last written 30 h ago: .* \(rule log-without-zip\)/);
  });
});

const objectsOfBackup = (names: string[], backup: string) => names.filter((n) => n.startsWith(`${backup}.`));
