import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasLiteralCredential } from "./app-args.js";
import { settingsOf } from "./settings-file.js";

describe("hasLiteralCredential: what is made secret before it reaches the state", () => {
  it.each([
    ["https://acct.blob.core.windows.net/backups?sv=2024-01-01&sp=racwdl&sig=abc%2Bdef", true],
    ["DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bm90LWEta2V5;EndpointSuffix=core.windows.net", true],
    ["Host=db;Database=shop;Username=app;Password=s3cret", true],
    ["postgres://app:s3cret@db/shop", true],
    ["https://acct.blob.core.windows.net/backups?${env:BACKUP_SAS}", false],
    ["${env:BACKUP_SAS_URL}", false],
    ["DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${env:STORAGE_KEY}", false],
    ["Host=db;Database=shop;Username=app;Password=${env:DB_PASSWORD}", false],
    ["postgres://app:${env:DB_PASSWORD}@db/shop", false],
    ["file:./backups", false],
  ])("%s → %s", (value, expected) => {
    expect(hasLiteralCredential(value)).toBe(expected);
  });
});

describe("settingsOf: a settingsFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "settings-file-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads a YAML or JSON mapping, values as strings", async () => {
    const file = path.join(dir, "settings.yml");
    await writeFile(file, "WEBSITE_TIME_ZONE: UTC\nWORKERS: 4\nFEATURE_X: true\nAPI_KEY: ${env:API_KEY}\n");
    expect(await settingsOf(file)).toEqual({ WEBSITE_TIME_ZONE: "UTC", WORKERS: "4", FEATURE_X: "true", API_KEY: "${env:API_KEY}" });
  });

  it("reads the list `az webapp config appsettings list` prints", async () => {
    const file = path.join(dir, "appsettings.json");
    await writeFile(file, JSON.stringify([{ name: "WEBSITE_TIME_ZONE", slotSetting: false, value: "UTC" }, { name: "WORKERS", slotSetting: true, value: "4" }]));
    expect(await settingsOf(file)).toEqual({ WEBSITE_TIME_ZONE: "UTC", WORKERS: "4" });
  });

  it("says what is wrong with a missing or malformed file", async () => {
    await expect(settingsOf(path.join(dir, "missing.yml"))).rejects.toThrow(`Cannot read the settings file ${dir}/missing.yml: it does not exist.`);
    const nested = path.join(dir, "nested.yml");
    await writeFile(nested, "LOGGING:\n  level: debug\n");
    await expect(settingsOf(nested)).rejects.toThrow(`The settings file ${nested} is invalid: the value of LOGGING is not a string, number or boolean.`);
    const list = path.join(dir, "list.json");
    await writeFile(list, JSON.stringify([{ value: "UTC" }]));
    await expect(settingsOf(list)).rejects.toThrow(/item 1 has no setting name/);
  });
});
