import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { localBackupNames, makeScheduledApp, ok } from "../support/scheduled-app.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe("app-backup run-scheduled", () => {
  it("runs the first backup at startTime, then one per day, across a month boundary", async () => {
    const app = await makeScheduledApp({ schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-30T02:00:00Z' }" });
    await ok(app, ["configure"]);

    const early = await ok(app, ["run-scheduled", "--now", "2030-01-30T01:59:00Z"]);
    expect(early).toMatchObject({ due: false, backup: null, nextDueAt: "2030-01-30T02:00:00.000Z" });
    expect(early.reason).toContain("The schedule starts at 2030-01-30T02:00:00.000Z");

    const first = await ok(app, ["run-scheduled", "--now", "2030-01-30T02:00:00Z"]);
    expect(first).toMatchObject({ due: true, backup: { name: "shop_20300130020000", status: "Succeeded", trigger: "Scheduled" } });
    expect(await readFile(path.join(app.backups, "shop_20300130020000.xml"), "utf8")).toContain("<Trigger>Scheduled</Trigger>");

    const sameDay = await ok(app, ["run-scheduled", "--now", "2030-01-31T01:59:59Z"]);
    expect(sameDay).toMatchObject({ due: false, backup: null, nextDueAt: "2030-01-31T02:00:00.000Z", lastScheduled: { name: "shop_20300130020000" } });

    // A runner firing a little late each day does not drift the schedule.
    expect(await ok(app, ["run-scheduled", "--now", "2030-01-31T02:00:07Z"])).toMatchObject({ due: true, backup: { name: "shop_20300131020007" } });
    expect(await ok(app, ["run-scheduled", "--now", "2030-02-01T02:00:03Z"])).toMatchObject({ due: true, backup: { name: "shop_20300201020003" } });
    expect(await ok(app, ["run-scheduled", "--now", "2030-02-01T23:00:00Z"])).toMatchObject({ due: false });

    expect(await localBackupNames(app.backups)).toEqual(["shop_20300130020000", "shop_20300131020007", "shop_20300201020003"]);
    const list = await ok(app, ["list"]);
    expect(list.map((b: { trigger: string }) => b.trigger)).toEqual(["Scheduled", "Scheduled", "Scheduled"]);
  });

  it("counts Hour intervals, and a runner that was down for a week runs once", async () => {
    const app = await makeScheduledApp({ schedule: "{ frequencyInterval: 6, frequencyUnit: Hour, startTime: '2030-12-31T18:00:00Z' }" });
    await ok(app, ["configure"]);
    expect(await ok(app, ["run-scheduled", "--now", "2030-12-31T18:05:00Z"])).toMatchObject({ due: true, slot: "2030-12-31T18:00:00.000Z" });
    expect(await ok(app, ["run-scheduled", "--now", "2030-12-31T23:59:00Z"])).toMatchObject({ due: false, nextDueAt: "2031-01-01T00:00:00.000Z" });
    expect(await ok(app, ["run-scheduled", "--now", "2031-01-01T00:00:00Z"])).toMatchObject({ due: true, missedSlots: 0 });

    // Down for a week: 28 six-hour slots passed; one backup, then the next slot.
    const back = await ok(app, ["run-scheduled", "--now", "2031-01-08T01:00:00Z"]);
    expect(back).toMatchObject({ due: true, missedSlots: 27, slot: "2031-01-08T00:00:00.000Z", backup: { name: "shop_20310108010000" } });
    expect(back.reason).toContain("28 slots passed since 2031-01-01T06:00:00.000Z");
    expect(await ok(app, ["run-scheduled", "--now", "2031-01-08T01:00:30Z"])).toMatchObject({ due: false, nextDueAt: "2031-01-08T06:00:00.000Z" });
    expect(await localBackupNames(app.backups)).toEqual(["shop_20301231180500", "shop_20310101000000", "shop_20310108010000"]);
  });

  it("does nothing when backups are disabled, and says why", async () => {
    const app = await makeScheduledApp({ backupBody: "  enabled: false\n  schedule: { frequencyInterval: 1, frequencyUnit: Hour }\n" });
    await ok(app, ["configure", "--now", "2030-01-01T00:00:00Z"]);
    const run = await app.run(["run-scheduled", "--now", "2030-02-01T00:00:00Z", "--json"]);
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({ enabled: false, due: false, backup: null, pruned: [] });
    expect(run.json.reason).toContain("disabled (backup.enabled is false");
    expect((await app.run(["run-scheduled", "--now", "2030-02-01T00:00:00Z"])).stdout).toContain("no scheduled backup due");
    expect(await localBackupNames(app.backups)).toEqual([]);
  });

  it("uses the stored configuration, not the runner's file, and says they differ", async () => {
    const app = await makeScheduledApp({ schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z' }" });
    await ok(app, ["configure"]);
    await app.rewrite("  enabled: false\n  schedule: { frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z' }\n");
    const run = await app.run(["run-scheduled", "--now", "2030-01-01T00:00:00Z", "--json"]);
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({ due: true, differences: ["backup.enabled"], backup: { status: "Succeeded" } });
    expect(run.stderr).toContain("differs from the stored configuration on backup.enabled; the stored one is used");
  });

  it("--dry-run decides and plans without backing up or deleting", async () => {
    const app = await makeScheduledApp({ schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 5, keepAtLeastOneBackup: false }" });
    await ok(app, ["configure"]);
    await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"]);
    const dry = await ok(app, ["run-scheduled", "--now", "2030-01-10T00:00:00Z", "--dry-run"]);
    expect(dry).toMatchObject({ dryRun: true, due: true, backup: null, pruned: [{ name: "shop_20300101000000", action: "delete", rule: "older-than-retention" }] });
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300101000000"]);
  });

  it("backs up to Azure Blob Storage and applies retention there, zip, manifest and log together", async () => {
    const container = `scheduled${Date.now()}`;
    // Storage as {connectionString, container}, with the connection string from the environment.
    const app = await makeScheduledApp({
      storage: `{ connectionString: "\${env:STORAGE}", container: ${container} }`,
      schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 2, keepAtLeastOneBackup: true }",
    });
    const env = { STORAGE: azurite.connectionString };
    await ok(app, ["configure"], env);
    await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"], env);
    await ok(app, ["run-scheduled", "--now", "2030-01-02T00:00:00Z"], env);
    const third = await ok(app, ["run-scheduled", "--now", "2030-01-05T00:00:00Z"], env);
    expect(third.backup).toMatchObject({ name: "shop_20300105000000", status: "Succeeded" });
    expect(third.pruned.map((p: { name: string }) => p.name).sort()).toEqual(["shop_20300101000000", "shop_20300102000000"]);

    const blobs: string[] = [];
    for await (const blob of azurite.service.getContainerClient(container).listBlobsFlat()) blobs.push(blob.name);
    expect(blobs.sort()).toEqual(["shop.backup-config.json", "shop.lock", "shop_20300105000000.log", "shop_20300105000000.xml", "shop_20300105000000.zip"]);
  });
});
