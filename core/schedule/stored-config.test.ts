import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listBackups } from "../catalog/catalog.js";
import { resolveConfig } from "../config/load.js";
import { AppBackupError } from "../errors.js";
import { LocalStore } from "../store/local.js";
import { storeConfiguration } from "./configure.js";
import {
  configurationDifferences,
  optionsFromStoredConfiguration,
  readStoredConfiguration,
  requireStoredConfiguration,
  storedConfigurationFromOptions,
  deleteStoredConfiguration,
} from "./stored-config.js";

const env = { MAIN_DB: "postgres://app:s3cret-pass@db.internal/shop", API_KEY: "key-abcdefgh-123", SB_KEY: "c2VjcmV0LWtleQ==" };

function declared(extra: Record<string, unknown> = {}, backup: Record<string, unknown> = {}) {
  return resolveConfig(
    {
      name: "shop",
      home: "./home",
      settings: { WEBSITE_TIME_ZONE: "UTC", API_KEY: "${env:API_KEY}" },
      connectionStrings: {
        MainDb: { type: "PostgreSQL", value: "${env:MAIN_DB}" },
        Literal: { type: "MySql", value: "Server=db;Uid=app;Pwd=literal-secret;Database=shop" },
        Bus: { type: "ServiceBus", value: "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=${env:SB_KEY}" },
      },
      backup: {
        storage: "file:./backups",
        databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }],
        maxSize: "2GB",
        schedule: { frequencyInterval: 6, frequencyUnit: "Hour", retentionPeriodInDays: 10 },
        ...backup,
      },
      ...extra,
    },
    { baseDir: "/srv/shop", env },
  );
}

describe("stored backup configuration", () => {
  it("holds what to back up and when, and no secret", () => {
    const doc = storedConfigurationFromOptions(declared(), { now: new Date("2030-01-01T10:20:30.456Z") });
    expect(doc.app).toEqual({
      name: "shop",
      home: "/srv/shop/home",
      settings: { WEBSITE_TIME_ZONE: "UTC", API_KEY: "${env:API_KEY}" },
      connectionStrings: {
        MainDb: { type: "PostgreSQL", value: "${env:MAIN_DB}" },
        Literal: { type: "MySql", value: null },
        Bus: { type: "ServiceBus", value: "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=${env:SB_KEY}" },
      },
    });
    expect(doc.backup).toMatchObject({
      enabled: true,
      databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }],
      maxSizeBytes: 2 * 1024 ** 3,
      filter: null,
      schedule: {
        frequencyInterval: 6,
        frequencyUnit: "Hour",
        startTime: "2030-01-01T10:20:30.000Z",
        startTimeSource: "default",
        retentionPeriodInDays: 10,
        keepAtLeastOneBackup: true,
        tiered: false,
      },
    });
    const text = JSON.stringify(doc);
    for (const secret of ["s3cret-pass", "literal-secret", env.API_KEY, env.SB_KEY]) expect(text).not.toContain(secret);
  });

  it("keeps a defaulted startTime when stored again, and uses a declared one", () => {
    const first = storedConfigurationFromOptions(declared(), { now: new Date("2030-01-01T00:00:00Z") });
    const again = storedConfigurationFromOptions(declared(), { now: new Date("2030-02-01T00:00:00Z"), previous: first });
    expect(again.backup.schedule!.startTime).toBe("2030-01-01T00:00:00.000Z");
    const declaredStart = storedConfigurationFromOptions(
      declared({}, { schedule: { frequencyInterval: 1, frequencyUnit: "Day", startTime: "2030-03-01T04:00:00+02:00" } }),
      { previous: first },
    );
    expect(declaredStart.backup.schedule).toMatchObject({ startTime: "2030-03-01T02:00:00.000Z", startTimeSource: "declared", retentionPeriodInDays: 30 });
    expect(configurationDifferences(first, declaredStart)).toEqual([
      "backup.schedule.frequencyInterval",
      "backup.schedule.frequencyUnit",
      "backup.schedule.retentionPeriodInDays",
      "backup.schedule.startTime",
    ]);
  });

  it("is written to the container beside the backups, read back, and not listed as a backup", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "stored-config-"));
    const store = new LocalStore(root);
    const first = await storeConfiguration(declared(), { store, now: new Date("2030-01-01T00:00:00Z") });
    expect(first).toMatchObject({ created: true, changed: [], url: `file://${root}/shop.backup-config.json` });
    const second = await storeConfiguration(declared({}, { enabled: false }), { store });
    expect(second).toMatchObject({ created: false, changed: ["backup.enabled"] });
    const read = await readStoredConfiguration(store, "shop");
    expect(read).toEqual(second.document);
    expect(read!.backup.schedule!.startTime).toBe("2030-01-01T00:00:00.000Z");
    expect(JSON.parse(await readFile(path.join(root, "shop.backup-config.json"), "utf8")).kind).toBe("app-backup.backup-configuration");
    expect(await listBackups(store)).toEqual([]);
    expect(await readStoredConfiguration(store, "other-app")).toBeUndefined();
    await deleteStoredConfiguration(store, "shop");
    const missing = await requireStoredConfiguration(store, "shop").catch((e: unknown) => e as AppBackupError);
    expect(missing).toBeInstanceOf(AppBackupError);
    expect((missing as AppBackupError).message).toContain("No backup configuration of shop is stored");
    expect((missing as AppBackupError).hint).toContain("app-backup configure");
  });

  it("rejects a document that is not a stored configuration, saying how to fix it", async () => {
    const store = new LocalStore(await mkdtemp(path.join(os.tmpdir(), "stored-config-")));
    await store.put("shop.backup-config.json", '{"kind":"something else"}');
    const error = (await readStoredConfiguration(store, "shop").catch((e: unknown) => e)) as AppBackupError;
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(/shop\.backup-config\.json .* is not valid: kind/);
    expect(error.hint).toContain("app-backup configure");
  });

  it("turns back into options with the runner's storage and the runner's secrets", () => {
    const doc = storedConfigurationFromOptions(declared());
    const runner = resolveConfig(
      {
        name: "shop",
        home: "/elsewhere",
        connectionStrings: { Literal: { type: "MySql", value: "Server=db;Uid=app;Pwd=${env:RUNNER_PW};Database=shop" } },
        backup: { storage: "file:/var/backups" },
      },
      { baseDir: "/", env: { RUNNER_PW: "runner-pass" }, source: "/etc/runner.yml" },
    );
    const runnerEnv = { ...env, MAIN_DB: "postgres://app:other@db/shop", RUNNER_PW: "runner-pass" };
    const { options, warnings } = optionsFromStoredConfiguration(doc, runner, { env: runnerEnv });
    expect(warnings).toEqual([]);
    expect(options.app.home).toBe("/srv/shop/home");
    expect(options.backup.storage).toEqual({ kind: "local", path: "/var/backups" });
    expect(options.backup.schedule).toMatchObject({ frequencyInterval: 6, frequencyUnit: "Hour", startTime: doc.backup.schedule!.startTime });
    expect(options.app.settings.API_KEY).toBe(env.API_KEY);
    expect(options.app.connectionStrings.MainDb).toEqual({ type: "PostgreSQL", value: "postgres://app:other@db/shop", declared: "${env:MAIN_DB}" });
    expect(options.app.connectionStrings.Literal!.value).toBe("Server=db;Uid=app;Pwd=runner-pass;Database=shop");
    expect(options.configPath).toBe("/etc/runner.yml");
  });

  it("says which connection string the runner must supply when a backed-up database has no stored value", () => {
    const doc = storedConfigurationFromOptions(
      declared({}, { databases: [{ connectionStringName: "Literal", databaseType: "MySql" }] }),
    );
    const runner = resolveConfig({ name: "shop", home: "/x" }, { baseDir: "/", env: {}, source: "/etc/runner.yml" });
    const error = (() => {
      try {
        optionsFromStoredConfiguration(doc, runner, { env });
      } catch (e) {
        return e as AppBackupError;
      }
    })();
    expect(error?.code).toBe("CONFIG_INVALID");
    expect(error?.message).toContain("connection string Literal");
    expect(error?.hint).toContain("connectionStrings.Literal in /etc/runner.yml");
  });

  it("names an environment variable the runner lacks", () => {
    const doc = storedConfigurationFromOptions(declared());
    const runner = resolveConfig({ name: "shop", home: "/x" }, { baseDir: "/", env: {} });
    expect(() => optionsFromStoredConfiguration(doc, runner, { env: { MAIN_DB: "x", SB_KEY: "y" } })).toThrow(
      /in shop\.backup-config\.json \(the stored backup configuration\) is invalid:\n- settings\.API_KEY: refers to the environment variable API_KEY/,
    );
  });
});
