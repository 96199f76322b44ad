import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { manifestToXml } from "../../core/format/manifest-xml.js";
import { localBackupNames, makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";

/** A scheduled backup that failed (its database was unreachable, say): a manifest and a log, no zip. */
async function failedScheduledBackup(app: ScheduledApp, name: string, startedAt: string): Promise<void> {
  const at = new Date(startedAt);
  const xml = manifestToXml({
    formatVersion: 1,
    appName: "shop",
    backupName: name,
    status: "Failed",
    trigger: "Scheduled",
    startedAt: at,
    finishedAt: at,
    toolVersion: "0.1.0",
    contentBytes: 0,
    files: 0,
    error: "Database MainDb cannot be reached.",
    origin: {},
    filter: { source: "", lines: [] },
    warnings: [],
    databases: [],
    skipped: [],
    entries: [],
  });
  await writeFile(path.join(app.backups, `${name}.xml`), xml);
  await writeFile(path.join(app.backups, `${name}.log`), "Backup failed.\n");
}

const byName = (backups: Array<{ name: string; action: string; rule: string }>) =>
  Object.fromEntries(backups.map((b) => [b.name, `${b.action}:${b.rule}`]));

describe("app-backup prune", () => {
  it("deletes scheduled backups past retention (failed ones too), keeps the newest successful one, never an on-demand one", async () => {
    const app = await makeScheduledApp({
      schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 0 }",
    });
    await ok(app, ["configure"]);
    const onDemand = await ok(app, ["backup", "--name", "shop_ondemand"]);
    expect(onDemand.trigger).toBe("OnDemand");
    for (const now of ["2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z", "2030-01-10T00:00:00Z"]) {
      expect((await ok(app, ["run-scheduled", "--now", now])).due).toBe(true);
    }
    await failedScheduledBackup(app, "shop_20300111000000", "2030-01-11T00:00:00Z");

    await app.rewrite("  schedule: { frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 5 }\n");
    await ok(app, ["configure"]);
    const before = (await readdir(app.backups)).sort();

    const dry = await ok(app, ["prune", "--dry-run", "--now", "2030-02-01T00:00:00Z"]);
    const expected = {
      shop_ondemand: "keep:on-demand",
      shop_20300111000000: "delete:older-than-retention",
      shop_20300110000000: "keep:keep-at-least-one",
      shop_20300102000000: "delete:older-than-retention",
      shop_20300101000000: "delete:older-than-retention",
    };
    expect(byName(dry.backups)).toEqual(expected);
    expect(dry).toMatchObject({ dryRun: true, policy: { retentionPeriodInDays: 5, keepAtLeastOneBackup: true, tiered: false } });
    expect((await readdir(app.backups)).sort()).toEqual(before);
    const human = await app.run(["prune", "--dry-run", "--now", "2030-02-01T00:00:00Z"]);
    expect(human.stdout).toMatch(/shop_20300110000000\s+Scheduled\s+Succeeded\s+2030-01-10 00:00:00\s+keep\s+keep-at-least-one/);
    expect(human.stdout).toContain("shop_20300101000000: Scheduled, 31.0 days old: older than the 5-day retention period.");
    expect(human.stdout).toContain("Retention would delete 3 of 5 backup(s).");

    const real = await ok(app, ["prune", "--now", "2030-02-01T00:00:00Z"]);
    expect(byName(real.backups)).toEqual(expected);
    expect(real.deleted.sort()).toEqual(["shop_20300101000000", "shop_20300102000000", "shop_20300111000000"]);
    // Zip, manifest and log go together.
    expect((await readdir(app.backups)).filter((n) => n.startsWith("shop_")).sort()).toEqual([
      "shop_20300110000000.log",
      "shop_20300110000000.xml",
      "shop_20300110000000.zip",
      "shop_ondemand.log",
      "shop_ondemand.xml",
      "shop_ondemand.zip",
    ]);

    await app.rewrite(
      "  schedule: { frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 5, keepAtLeastOneBackup: false }\n",
    );
    await ok(app, ["configure"]);
    const last = await ok(app, ["prune", "--now", "2030-02-01T00:00:00Z"]);
    expect(last.deleted).toEqual(["shop_20300110000000"]);
    expect(await localBackupNames(app.backups)).toEqual(["shop_ondemand"]);
  });

  it("keeps every scheduled backup when retentionPeriodInDays is 0", async () => {
    const app = await makeScheduledApp({
      schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 0, keepAtLeastOneBackup: false }",
    });
    await ok(app, ["configure"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-02T00:00:00Z"]);
    await failedScheduledBackup(app, "shop_20300103000000", "2030-01-03T00:00:00Z");
    const result = await ok(app, ["prune", "--now", "2040-01-01T00:00:00Z"]);
    expect(result.deleted).toEqual([]);
    expect(result.backups.map((b: { rule: string }) => b.rule)).toEqual(["keep-forever", "keep-forever", "keep-forever"]);
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300101000000", "shop_20300102000000", "shop_20300103000000"]);
  });

  it("thins older scheduled backups with the tiered policy: one per 3-hour window after 3 days", async () => {
    const app = await makeScheduledApp({
      schedule: "{ frequencyInterval: 1, frequencyUnit: Hour, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 0, tiered: true }",
    });
    await ok(app, ["configure"]);
    // Three hourly backups in the 00:00-03:00 window of Jan 5: all kept while younger than 3 days.
    for (const now of ["2030-01-05T00:10:00Z", "2030-01-05T01:10:00Z", "2030-01-05T02:10:00Z", "2030-01-07T06:00:00Z"]) {
      const run = await ok(app, ["run-scheduled", "--now", now]);
      expect(run).toMatchObject({ due: true, pruned: [] });
    }
    const dry = await ok(app, ["prune", "--dry-run", "--now", "2030-01-10T00:00:00Z"]);
    expect(byName(dry.backups)).toEqual({
      shop_20300107060000: "keep:tier-all",
      shop_20300105021000: "keep:tier-kept",
      shop_20300105011000: "delete:tier-thinned",
      shop_20300105001000: "delete:tier-thinned",
    });
    expect(dry.backups.find((b: { name: string }) => b.name === "shop_20300105001000").reason).toContain(
      "tiered retention keeps one backup per 3-hour window for backups 3 to 14 days old; shop_20300105021000 is kept for this one.",
    );
    // The scheduled run at that time applies the same retention after its backup.
    const run = await ok(app, ["run-scheduled", "--now", "2030-01-10T00:00:00Z"]);
    expect(run.backup.name).toBe("shop_20300110000000");
    expect(run.pruned.map((p: { name: string; rule: string }) => `${p.name}:${p.rule}`).sort()).toEqual([
      "shop_20300105001000:tier-thinned",
      "shop_20300105011000:tier-thinned",
    ]);
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300105021000", "shop_20300107060000", "shop_20300110000000"]);
  });

  it("says so when the stored configuration has no schedule, and deletes nothing", async () => {
    const app = await makeScheduledApp({ backupBody: "" });
    await ok(app, ["configure"]);
    await ok(app, ["backup", "--name", "shop_manual"]);
    const result = await app.run(["prune"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("has no backup.schedule, so no retention applies; nothing was deleted");
    expect(await localBackupNames(app.backups)).toEqual(["shop_manual"]);
  });
});
