import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backup, BackupConfiguration } from "../../provider/index.js";
import { backupConfigurationProvider, backupProvider } from "../../provider/serialized-providers.js";
import { devAccount, startAzurite, type Azurite } from "../support/azurite.js";
import { freePort } from "../support/ports.js";
import { freshDatabase, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";
import { createPulumiTestStack, type PulumiTestStack } from "../support/pulumi.js";
import { blobNamesIn, blobText, putBlobText } from "../support/azurite-blobs.js";
import { backendFiles, makeAppHome, zipEntriesOf } from "../support/provider-engine.js";

let azurite: Azurite;
let postgres: PostgresTestServer;
let workDir: string;

beforeAll(async () => {
  [azurite, postgres] = await Promise.all([startAzurite(), startPostgres()]);
  workDir = await mkdtemp(path.join(os.tmpdir(), "provider-engine-"));
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), postgres?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface StateResource {
  type: string;
  urn: string;
  outputs?: Record<string, unknown>;
}

/** What `pulumi.dynamic.Resource` stores as `__provider` (dynamic/index.js serializes `() => provider`). */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

async function stateResources(target: PulumiTestStack): Promise<StateResource[]> {
  return ((await target.stack.exportStack()).deployment.resources ?? []) as StateResource[];
}

describe("BackupConfiguration and Backup on the Pulumi engine, with Azurite and PostgreSQL", () => {
  let target: PulumiTestStack;
  let home: string;
  let sasUrl: string;
  let release = "1.0.0";
  const secrets: Record<string, string> = {};
  const snapshots: string[] = [];

  beforeAll(async () => {
    home = await makeAppHome(workDir);
    const database = await freshDatabase(postgres, "shop");
    await sql(postgres, database, "CREATE TABLE orders (id int PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g;");
    sasUrl = await azurite.containerWithSas("backups");
    await azurite.service.getContainerClient("mirror").createIfNotExists();
    secrets.sasSignature = new URL(sasUrl).searchParams.get("sig")!;
    secrets.sasQuery = sasUrl.slice(sasUrl.indexOf("?") + 1);
    secrets.accountKey = devAccount.key;
    secrets.databasePassword = postgres.password;
    // App settings written out in the program and in a settings file: made secret before they reach the state.
    secrets.settingsApiKey = "settings-api-key-7f3e9a41";
    secrets.settingsFilePassword = "settings-file-password-2c8d5b";
    const mirrorSettings = path.join(workDir, "mirror-settings.yml");
    await writeFile(mirrorSettings, `WEBSITE_TIME_ZONE: UTC\nMAIL_PASSWORD: ${secrets.settingsFilePassword}\n`);

    target = await createPulumiTestStack({
      projectName: "app-backup-resources",
      program: async () => {
        const config = new pulumi.Config();
        const nightly = new BackupConfiguration("nightly", {
          name: "shop",
          home,
          // A Pulumi config secret.
          storage: config.requireSecret("backupStorage"),
          settings: { WEBSITE_TIME_ZONE: "UTC", API_KEY: secrets.settingsApiKey! },
          connectionStrings: {
            // A password from the environment of `pulumi`, resolved inside the provider.
            MainDb: {
              type: "PostgreSQL",
              value: `Host=127.0.0.1;Port=${postgres.port};Database=${database};Username=${postgres.user};` + "Password=${env:SHOP_DB_PASSWORD}",
            },
          },
          databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }],
          backupSchedule: { frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 30 },
        });
        const snapshot = new Backup("before-release", { configuration: nightly, triggers: [release] });
        // A credential written out in the program: made secret before it reaches the state.
        const mirror = new Backup("mirror", {
          name: "shop",
          home,
          storage: { connectionString: azurite.connectionString, container: "mirror" },
          settingsFile: mirrorSettings,
          triggers: [release],
        });
        return {
          configurationUrl: nightly.configurationUrl,
          scheduleStartTime: nightly.scheduleStartTime,
          snapshotName: snapshot.backupName,
          snapshotZip: snapshot.zipUrl,
          snapshotManifest: snapshot.manifestUrl,
          snapshotStatus: snapshot.status,
          snapshotSize: snapshot.sizeBytes,
          snapshotCreatedAt: snapshot.createdAt,
          mirrorName: mirror.backupName,
        };
      },
    });
    await target.stack.setConfig("backupStorage", { value: sasUrl, secret: true });
    target.stack.workspace.envVars.SHOP_DB_PASSWORD = postgres.password;
  });

  afterAll(async () => {
    await target?.cleanup();
  });

  it("up stores the configuration and takes a snapshot with the database dump", async () => {
    const result = await target.stack.up();

    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ create: 4 });
    const outputs = Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value]));
    const name = outputs.snapshotName as string;
    snapshots.push(name);
    expect(name).toMatch(/^shop_\d{14}$/);
    expect(outputs.configurationUrl).toBe(`${azurite.accountUrl}/backups/shop.backup-config.json`);
    expect(outputs.snapshotZip).toBe(`${azurite.accountUrl}/backups/${name}.zip`);
    expect(outputs.snapshotManifest).toBe(`${azurite.accountUrl}/backups/${name}.xml`);
    expect(outputs.snapshotStatus).toBe("Succeeded");
    expect(outputs.snapshotSize).toBeGreaterThan(0);
    expect(new Date(outputs.snapshotCreatedAt as string).toISOString()).toBe(outputs.snapshotCreatedAt);

    expect(await blobNamesIn(azurite, "backups")).toEqual(["shop.backup-config.json", `${name}.log`, `${name}.xml`, `${name}.zip`]);
    const document = JSON.parse(await blobText(azurite, "backups", "shop.backup-config.json"));
    expect(document.app.connectionStrings.MainDb).toEqual({ type: "PostgreSQL", value: expect.stringMatching(/;Password=\$\{env:SHOP_DB_PASSWORD\}$/) });
    expect(document.backup.schedule).toMatchObject({ frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 30, keepAtLeastOneBackup: true, startTime: outputs.scheduleStartTime });
    expect(await zipEntriesOf(azurite, "backups", `${name}.zip`, workDir)).toEqual([
      "MainDb.sql",
      "fs/site/",
      "fs/site/wwwroot/",
      "fs/site/wwwroot/css/",
      "fs/site/wwwroot/css/site.css",
      "fs/site/wwwroot/index.html",
      "meta",
    ]);
    expect(await blobNamesIn(azurite, "mirror")).toEqual([`${outputs.mirrorName}.log`, `${outputs.mirrorName}.xml`, `${outputs.mirrorName}.zip`]);
  });

  it("a second preview shows no changes", async () => {
    const result = await target.stack.preview();

    expect(result.changeSummary).toEqual({ same: 4 });
  });

  it("refresh shows no changes, and neither does the preview after it", async () => {
    const refresh = await target.stack.refresh();
    const preview = await target.stack.preview();

    expect(refresh.summary.resourceChanges).toEqual({ same: 4 });
    expect(preview.changeSummary).toEqual({ same: 4 });
  });

  it("refresh records a configuration changed outside Pulumi, and the next up stores the declared one again", async () => {
    const changed = JSON.parse(await blobText(azurite, "backups", "shop.backup-config.json"));
    changed.backup.enabled = false;
    changed.backup.schedule.retentionPeriodInDays = 7;
    await putBlobText(azurite, "backups", "shop.backup-config.json", JSON.stringify(changed));

    const refresh = await target.stack.refresh();
    const up = await target.stack.up();

    expect(refresh.summary.resourceChanges).toEqual({ same: 3, update: 1 });
    expect(up.summary.resourceChanges).toEqual({ same: 3, update: 1 });
    const stored = JSON.parse(await blobText(azurite, "backups", "shop.backup-config.json"));
    expect(stored.backup.enabled).toBe(true);
    expect(stored.backup.schedule.retentionPeriodInDays).toBe(30);
    expect(stored.backup.schedule.startTime).toBe(changed.backup.schedule.startTime);
  });

  it("new triggers take new snapshots and the earlier backups stay in their containers", async () => {
    release = "1.1.0";
    const preview = await target.stack.preview();
    // Backup names carry the second they were taken.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await target.stack.up();

    expect(preview.changeSummary).toEqual({ same: 2, replace: 2 });
    expect(result.summary.resourceChanges).toEqual({ same: 2, replace: 2 });
    const name = result.outputs.snapshotName!.value as string;
    expect(name).not.toBe(snapshots[0]);
    snapshots.push(name);
    const blobs = await blobNamesIn(azurite, "backups");
    for (const snapshot of snapshots) expect(blobs).toEqual(expect.arrayContaining([`${snapshot}.log`, `${snapshot}.xml`, `${snapshot}.zip`]));
    expect(await blobNamesIn(azurite, "mirror")).toHaveLength(6);
  });

  it("the state and every file of the backend hold no storage key, SAS signature, database password or app setting written out", async () => {
    const files = await backendFiles(target.backendDir);
    expect(files.has(target.stateFilePath)).toBe(true);
    for (const [file, text] of files) {
      for (const [what, secret] of Object.entries(secrets)) {
        expect(text.includes(secret), `${file} holds the ${what}`).toBe(false);
        expect(text.includes(encodeURIComponent(secret)), `${file} holds the ${what}, URL-encoded`).toBe(false);
      }
    }
    // Pulumi's mark of an encrypted value: the secret inputs and outputs are there, encrypted.
    expect(await target.readState()).toContain("4dabf18193072939515e22adb298388d");
  });

  it("the state stores the providers as the loaders the provider tests run in a host process", async () => {
    const state = JSON.parse(await target.readState());
    const resources = state.checkpoint.latest.resources as Array<{ type: string; outputs: Record<string, unknown> }>;
    const providerOf = (type: string) => resources.find((resource) => resource.type === type)!.outputs.__provider;

    expect(providerOf("pulumi-nodejs:dynamic/app-backup:BackupConfiguration")).toBe(await serialized(backupConfigurationProvider));
    expect(providerOf("pulumi-nodejs:dynamic/app-backup:Backup")).toBe(await serialized(backupProvider));
  });

  it("destroy removes the configuration and keeps every backup", async () => {
    const result = await target.stack.destroy();

    expect(result.summary.resourceChanges).toEqual({ delete: 4 });
    const blobs = await blobNamesIn(azurite, "backups");
    expect(blobs).not.toContain("shop.backup-config.json");
    expect(blobs).toEqual(snapshots.flatMap((snapshot) => [`${snapshot}.log`, `${snapshot}.xml`, `${snapshot}.zip`]).sort());
    expect(await blobNamesIn(azurite, "mirror")).toHaveLength(6);
    expect(await stateResources(target)).toEqual([]);
  });
});

describe("a failed backup on the Pulumi engine", () => {
  it("fails the up with what is wrong when the home is missing", async () => {
    const sas = await azurite.containerWithSas("failed-home");
    const target = await createPulumiTestStack({
      projectName: "app-backup-failed-home",
      program: async () => {
        new Backup("snapshot", { name: "shop", home: path.join(workDir, "no-such-home"), storage: sas });
      },
    });
    try {
      const failure = await target.stack.up().then(
        () => undefined,
        (error: Error) => error,
      );

      expect(failure?.message).toContain(`The app's home ${path.join(workDir, "no-such-home")} does not exist.`);
      expect(failure?.message).toContain(`Set "home" in the inputs of the app-backup Backup`);
      expect(failure?.message).not.toContain(new URL(sas).searchParams.get("sig")!);
      expect((await stateResources(target)).map((resource) => resource.type)).not.toContain("pulumi-nodejs:dynamic/app-backup:Backup");
    } finally {
      await target.cleanup();
    }
  });

  it("fails the up with the backup's log, without the password, when the database cannot be reached", async () => {
    const home = await makeAppHome(workDir);
    const port = await freePort();
    const password = "Unreachable-Pa55word-4711";
    const target = await createPulumiTestStack({
      projectName: "app-backup-failed-database",
      program: async () => {
        new Backup("snapshot", {
          name: "shop",
          home,
          storage: `file:${workDir}/failed-database`,
          connectionStrings: { MainDb: { type: "PostgreSQL", value: `Host=127.0.0.1;Port=${port};Database=shop;Username=shop;Password=${password};Timeout=3` } },
          databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }],
        });
      },
    });
    try {
      const failure = await target.stack.up().then(
        () => undefined,
        (error: Error) => error,
      );

      expect(failure?.message).toMatch(/The backup shop_\d{14} of shop failed: The dump of database MainDb \(.*\) failed: /);
      expect(failure?.message).toMatch(/Its log, file:\/\/.*\/failed-database\/shop_\d{14}\.log:/);
      expect(failure?.message).toMatch(/INFO +Dumping MainDb \(PostgreSql, /);
      expect(failure?.message).toMatch(/ERROR +Backup failed: /);
      expect(failure?.message).not.toContain(password);
      const files = await backendFiles(target.backendDir);
      for (const [file, text] of files) expect(text.includes(password), `${file} holds the password`).toBe(false);
    } finally {
      await target.cleanup();
    }
  });
});
