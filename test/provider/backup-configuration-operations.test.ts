import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { backupConfigurationOperations as operations } from "../../provider/backup-configuration-operations.js";
import { backupOperations } from "../../provider/backup-operations.js";
import { unknownValue } from "../../provider/normalize.js";
import type { BackupConfigurationInputs } from "../../provider/types.js";
import { containerObjects } from "../support/container-files.js";

let azurite: Azurite;
let workDir: string;
const envNames: string[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
  workDir = await mkdtemp(path.join(os.tmpdir(), "provider-config-"));
});
afterAll(async () => {
  await azurite?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const name of envNames.splice(0)) delete process.env[name];
});

function setEnv(name: string, value: string): void {
  envNames.push(name);
  process.env[name] = value;
}

let counter = 0;
/** An app home with a little content and an empty local container beside it. */
async function makeApp() {
  const dir = path.join(workDir, `app${++counter}`);
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n");
  return { dir, home, container: path.join(dir, "backups") };
}

async function checked(news: Record<string, unknown>): Promise<BackupConfigurationInputs> {
  const result = await operations.check({} as BackupConfigurationInputs, news as unknown as BackupConfigurationInputs);
  expect(result.failures).toBeUndefined();
  return result.inputs!;
}

async function storedDocument(container: string, app = "shop"): Promise<any> {
  return JSON.parse(await readFile(path.join(container, `${app}.backup-config.json`), "utf8"));
}

describe("BackupConfiguration check", () => {
  it("fills in Azure's schedule defaults and keeps ${env:VAR} references as declared", async () => {
    setEnv("TEST_CONFIG_STORAGE", `file:${workDir}/any`);
    const inputs = await checked({ name: "shop", home: "/srv/shop", storage: "${env:TEST_CONFIG_STORAGE}", backupSchedule: { retentionPeriodInDays: 14 } });

    expect(inputs).toEqual({
      name: "shop",
      home: "/srv/shop",
      storage: "${env:TEST_CONFIG_STORAGE}",
      settings: {},
      connectionStrings: {},
      databases: [],
      backupSchedule: { frequencyInterval: 7, frequencyUnit: "Day", keepAtLeastOneBackup: true, retentionPeriodInDays: 14, tiered: false },
      enabled: true,
    });
  });

  it("names the input that is wrong and says what to do", async () => {
    const base = { name: "shop", home: "/srv/shop", storage: "file:/tmp/backups" };

    await expect(checked({ ...base, backupSchedule: { frequencyUnit: "Week" } })).rejects.toThrow(/- backupSchedule\.frequencyUnit: expected "Day" or "Hour"/);
    await expect(checked({ ...base, storage: "${env:TEST_CONFIG_NOT_SET}" })).rejects.toThrow(
      /- storage: refers to the environment variable TEST_CONFIG_NOT_SET, which is not set\.\nSet TEST_CONFIG_NOT_SET in the environment/,
    );
    await expect(checked({ ...base, databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }] })).rejects.toThrow(
      /- databases\[0\]\.connectionStringName: "MainDb" is not one of the app's connectionStrings/,
    );
    const noSas = checked({ ...base, storage: "https://account.blob.core.windows.net/backups" });
    await expect(noSas).rejects.toThrow(/- storage: the container URL https:\/\/account\.blob\.core\.windows\.net\/backups has no SAS token/);
    await expect(noSas).rejects.not.toThrow(/backup\.storage/);

    const misspelt = await operations.check({} as BackupConfigurationInputs, { ...base, retention: 30 } as unknown as BackupConfigurationInputs);
    expect(misspelt.failures).toEqual([{ property: "retention", reason: expect.stringContaining('BackupConfiguration has no input "retention"') }]);
  });

  it("leaves values the engine does not know yet (during a preview) for later", async () => {
    const inputs = await checked({ name: "shop", home: "/srv/shop", storage: unknownValue });
    expect(inputs.storage).toBe(unknownValue);
    expect(inputs.enabled).toBe(true);
  });
});

describe("BackupConfiguration lifecycle in a local container", () => {
  it("create stores the document with the schedule in effect, and outputs where it is", async () => {
    const app = await makeApp();
    const inputs = await checked({
      name: "shop",
      home: app.home,
      storage: `file:${app.container}`,
      settings: { WEBSITE_TIME_ZONE: "UTC" },
      backupSchedule: { frequencyInterval: 1, startTime: "2030-01-01T02:00:00Z" },
    });
    const { id, outs } = await operations.create(inputs);

    expect(id).toBe(`file://${app.container}/shop.backup-config.json`);
    expect(outs).toEqual({
      ...inputs,
      // Absent optional outputs are null, so a preview knows them.
      sftp: null,
      filter: null,
      maxSize: null,
      databaseMaxSize: null,
      backupName: null,
      configurationUrl: id,
      storageLocation: app.container,
      homePath: app.home,
      scheduleStartTime: "2030-01-01T02:00:00.000Z",
    });
    const document = await storedDocument(app.container);
    expect(document.app).toEqual({ name: "shop", home: app.home, settings: { WEBSITE_TIME_ZONE: "UTC" }, connectionStrings: {} });
    expect(document.backup.schedule).toEqual({
      frequencyInterval: 1,
      frequencyUnit: "Day",
      startTime: "2030-01-01T02:00:00.000Z",
      startTimeSource: "declared",
      retentionPeriodInDays: 30,
      keepAtLeastOneBackup: true,
      tiered: false,
    });
    expect(document.storedBy).toMatch(/^app-backup .* \(Pulumi\)$/);
  });

  it("diff: nothing for the same inputs, an update for a setting, a replacement for another app name or container", async () => {
    const app = await makeApp();
    const inputs = await checked({ name: "shop", home: app.home, storage: `file:${app.container}` });
    const { id, outs } = await operations.create(inputs);

    expect(await operations.diff(id, outs, inputs)).toEqual({ changes: false, replaces: [] });
    expect(await operations.diff(id, outs, { ...inputs, enabled: false })).toEqual({ changes: true, replaces: [] });
    expect(await operations.diff(id, outs, { ...inputs, name: "shop2" })).toEqual({ changes: true, replaces: ["name"] });
    expect(await operations.diff(id, outs, { ...inputs, storage: `file:${app.dir}/elsewhere` })).toEqual({ changes: true, replaces: ["storage"] });
  });

  it("update rewrites the document and keeps the schedule's default start time", async () => {
    const app = await makeApp();
    const inputs = await checked({ name: "shop", home: app.home, storage: `file:${app.container}`, backupSchedule: {} });
    const { id, outs } = await operations.create(inputs);
    const firstStart = outs.scheduleStartTime;
    expect(firstStart).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await storedDocument(app.container)).backup.schedule.startTimeSource).toBe("default");

    const updated = await operations.update(id, outs, { ...inputs, enabled: false, backupSchedule: { ...inputs.backupSchedule, retentionPeriodInDays: 7 } });

    expect(updated.outs!.scheduleStartTime).toBe(firstStart);
    const document = await storedDocument(app.container);
    expect(document.backup.enabled).toBe(false);
    expect(document.backup.schedule.retentionPeriodInDays).toBe(7);
    expect(document.backup.schedule.startTime).toBe(firstStart);
  });

  it("read returns the recorded state when the document matches, the document's values when it was changed elsewhere, nothing when it is gone", async () => {
    const app = await makeApp();
    const inputs = await checked({ name: "shop", home: app.home, storage: `file:${app.container}`, backupSchedule: { frequencyInterval: 2 } });
    const { id, outs } = await operations.create(inputs);

    expect(await operations.read(id, outs)).toEqual({ id, props: outs, inputs });

    const documentPath = path.join(app.container, "shop.backup-config.json");
    const document = await storedDocument(app.container);
    document.backup.enabled = false;
    document.backup.schedule.retentionPeriodInDays = 7;
    await writeFile(documentPath, JSON.stringify(document));
    const drifted = await operations.read(id, outs);
    const expectedInputs = { ...inputs, enabled: false, backupSchedule: { ...inputs.backupSchedule, retentionPeriodInDays: 7 } };
    expect(drifted.inputs).toEqual(expectedInputs);
    expect(drifted.props).toEqual({ ...outs, ...expectedInputs });
    expect(await operations.diff(id, drifted.props!, inputs)).toEqual({ changes: true, replaces: [] });

    await writeFile(documentPath, "{ not json");
    expect(await operations.read(id, outs)).toEqual({});
    await rm(documentPath);
    expect(await operations.read(id, outs)).toEqual({});
  });

  it("delete removes the configuration document and keeps every backup", async () => {
    const app = await makeApp();
    const appInputs = { name: "shop", home: app.home, storage: `file:${app.container}` };
    const inputs = await checked(appInputs);
    const { id, outs } = await operations.create(inputs);
    const backup = await backupOperations.create({ ...appInputs, settings: {}, connectionStrings: {}, databases: [], deleteOnDestroy: false });
    const backupFiles = [`${backup.outs!.backupName}.log`, `${backup.outs!.backupName}.xml`, `${backup.outs!.backupName}.zip`];
    expect((await containerObjects(app.container))).toEqual([...backupFiles, "shop.backup-config.json"].sort());

    await operations.delete(id, outs);

    expect((await containerObjects(app.container))).toEqual(backupFiles.sort());
  });

  it("delete refuses to touch a container other than the one the configuration lives in", async () => {
    const app = await makeApp();
    setEnv("TEST_CONFIG_MOVING_STORAGE", `file:${app.container}`);
    const inputs = await checked({ name: "shop", home: app.home, storage: "${env:TEST_CONFIG_MOVING_STORAGE}" });
    const { id, outs } = await operations.create(inputs);
    process.env.TEST_CONFIG_MOVING_STORAGE = `file:${app.dir}/elsewhere`;

    await expect(operations.delete(id, outs)).rejects.toThrow(
      `Cannot remove the configuration: the BackupConfiguration of shop lives in ${app.container}, but its storage input now points at ${app.dir}/elsewhere.`,
    );
    expect(await readdir(app.container)).toEqual(["shop.backup-config.json"]);
  });
});

describe("BackupConfiguration in Azure Blob Storage", () => {
  it("resolves a ${env:VAR} SAS URL in the provider and keeps the signature out of outputs and document", async () => {
    const app = await makeApp();
    const sasUrl = await azurite.containerWithSas("config-sas");
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    setEnv("TEST_CONFIG_SAS_URL", sasUrl);
    const inputs = await checked({ name: "shop", home: app.home, storage: "${env:TEST_CONFIG_SAS_URL}", backupSchedule: {} });
    const { id, outs } = await operations.create(inputs);

    expect(id).toBe(`${azurite.accountUrl}/config-sas/shop.backup-config.json`);
    expect(JSON.stringify(outs)).not.toContain(signature);
    const blob = await azurite.service.getContainerClient("config-sas").getBlobClient("shop.backup-config.json").downloadToBuffer();
    expect(JSON.parse(blob.toString()).app.name).toBe("shop");
    expect(blob.toString()).not.toContain(signature);
    expect(await operations.read(id, outs)).toEqual({ id, props: outs, inputs });
  });

  it("diff: a rotated SAS token updates in place; a reference that now names another container replaces", async () => {
    const app = await makeApp();
    const first = await azurite.containerWithSas("config-rotate");
    setEnv("TEST_CONFIG_ROTATING_SAS", first);
    const inputs = await checked({ name: "shop", home: app.home, storage: "${env:TEST_CONFIG_ROTATING_SAS}" });
    const { id, outs } = await operations.create(inputs);

    const rotated = await azurite.containerWithSas("config-rotate", { expiresInMs: 7_200_000 });
    expect(rotated).not.toBe(first);
    expect(await operations.diff(id, { ...outs, storage: first }, { ...inputs, storage: rotated })).toEqual({ changes: true, replaces: [] });

    process.env.TEST_CONFIG_ROTATING_SAS = await azurite.containerWithSas("config-other");
    expect(await operations.diff(id, outs, inputs)).toEqual({ changes: true, replaces: ["storage"] });
  });

  it("fails with the storage's error, without credentials, when the container cannot be reached", async () => {
    const app = await makeApp();
    const sasUrl = await azurite.containerWithSas("config-denied", { key: Buffer.from("not the account key").toString("base64") });
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    const inputs = await checked({ name: "shop", home: app.home, storage: sasUrl });

    const failure = await operations.create(inputs).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/config-denied/);
    expect(failure?.message).not.toContain(signature);
  });
});
