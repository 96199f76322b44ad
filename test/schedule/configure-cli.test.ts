import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { makeScheduledApp, ok } from "../support/scheduled-app.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const secrets = { MAIN_DB: "postgres://app:pg-Secret-991@127.0.0.1:1/shop", API_KEY: "api-key-7d1c0b2e" };
const topLevel = `settings: { WEBSITE_TIME_ZONE: UTC, API_KEY: "\${env:API_KEY}" }
connectionStrings:
  MainDb: { type: PostgreSQL, value: "\${env:MAIN_DB}" }
  Reports: { type: MySql, value: "Server=db;Uid=r;Pwd=mysql-Literal-55;Database=reports" }
`;

describe("app-backup configure / config show", () => {
  it("stores one configuration document per app in the container, without secrets, that list ignores", async () => {
    const sasUrl = await azurite.containerWithSas("configured");
    const app = await makeScheduledApp({
      storage: sasUrl,
      topLevel,
      schedule: "{ frequencyInterval: 12, frequencyUnit: Hour, retentionPeriodInDays: 14, keepAtLeastOneBackup: false, tiered: true }",
    });
    const stored = await ok(app, ["configure", "--now", "2030-01-01T08:30:00Z"], secrets);
    expect(stored).toMatchObject({ app: "shop", created: true, url: expect.stringMatching(/\/configured\/shop\.backup-config\.json$/) });
    expect(stored.url).not.toContain("sig=");

    const blob = azurite.service.getContainerClient("configured").getBlobClient("shop.backup-config.json");
    const text = (await blob.downloadToBuffer()).toString();
    const doc = JSON.parse(text);
    expect(doc.backup.schedule).toEqual({
      frequencyInterval: 12,
      frequencyUnit: "Hour",
      startTime: "2030-01-01T08:30:00.000Z",
      startTimeSource: "default",
      retentionPeriodInDays: 14,
      keepAtLeastOneBackup: false,
      tiered: true,
    });
    expect(doc.backup.enabled).toBe(true);
    expect(doc.app.home).toBe(app.home);
    expect(doc.app.connectionStrings).toEqual({ MainDb: { type: "PostgreSQL", value: "${env:MAIN_DB}" }, Reports: { type: "MySql", value: null } });
    for (const secret of ["pg-Secret-991", "mysql-Literal-55", secrets.API_KEY, new URL(sasUrl).searchParams.get("sig")!]) {
      expect(text).not.toContain(secret);
    }

    const shown = await ok(app, ["config", "show"], secrets);
    expect(shown).toMatchObject({ app: "shop", stored: true, differences: [], configuration: { backup: { schedule: { frequencyInterval: 12 } } } });
    const human = await app.run(["config", "show"], secrets);
    expect(human.stdout).toContain("every 12 hours from 2030-01-01T08:30:00.000Z (startTime not declared: the time the schedule was first stored)");
    expect(human.stdout).toContain("retention:    14 days, tiered");
    expect(human.stdout).toContain("connection string Reports: MySql, value not stored");

    expect(await ok(app, ["list"], secrets)).toEqual([]);
  });

  it("keeps the default startTime when configured again, and config show names where the file differs", async () => {
    const app = await makeScheduledApp();
    await ok(app, ["configure", "--now", "2030-03-01T00:00:00Z"]);
    await app.rewrite("  enabled: false\n  schedule: { frequencyInterval: 2, frequencyUnit: Day }\n");

    const shown = await ok(app, ["config", "show"]);
    expect(shown.differences).toEqual(["backup.enabled", "backup.schedule.frequencyInterval"]);
    expect((await app.run(["config", "show"])).stdout).toContain("differs on backup.enabled, backup.schedule.frequencyInterval");

    const again = await ok(app, ["configure", "--now", "2030-04-01T00:00:00Z"]);
    expect(again).toMatchObject({ created: false, changed: ["backup.enabled", "backup.schedule.frequencyInterval"] });
    const doc = JSON.parse(await readFile(path.join(app.backups, "shop.backup-config.json"), "utf8"));
    expect(doc.backup).toMatchObject({ enabled: false, schedule: { frequencyInterval: 2, startTime: "2030-03-01T00:00:00.000Z" } });
    expect((await ok(app, ["config", "show"])).differences).toEqual([]);
  });

  it("config show says when nothing is stored; run-scheduled and prune refuse with what to do", async () => {
    const app = await makeScheduledApp();
    expect(await ok(app, ["config", "show"])).toMatchObject({ stored: false, configuration: null });
    expect((await app.run(["config", "show"])).stdout).toContain("No backup configuration of shop is stored");
    for (const command of ["run-scheduled", "prune"]) {
      const run = await app.run([command, "--json"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("No backup configuration of shop is stored in");
      // The hint names the configuration this run was given, not a placeholder.
      expect(run.stderr).toContain(`\`app-backup configure --config ${app.config}\``);
      expect(run.stderr).not.toContain("--config FILE");
      expect(run.json).toMatchObject({ status: "Error", error: { code: "CONFIG_UNREADABLE" } });
    }
  });

  it("rejects a --now that is not an ISO-8601 time", async () => {
    const app = await makeScheduledApp();
    const run = await app.run(["configure", "--now", "tomorrow"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--now "tomorrow" is not an ISO-8601 time with a zone');
  });
});
