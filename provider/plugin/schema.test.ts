import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { backupDefaults, scheduleDefaults, toolVersion } from "../../core/index.js";
import { backupConfigurationKeys, backupKeys } from "../normalize.js";
import { AppBackupProvider } from "./provider.js";
import { backupConfigurationToken, backupToken, packageSchema } from "./schema.js";
import { ValibotToPulumi } from "./valibot-types.js";

const schema = packageSchema(toolVersion) as any;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("the plugin's package schema", () => {
  it("has the inputs the operations take, the Backup's origin filled in by the provider", () => {
    expect(Object.keys(schema.resources[backupConfigurationToken].inputProperties).sort()).toEqual([...backupConfigurationKeys].sort());
    expect(Object.keys(schema.resources[backupToken].inputProperties).sort()).toEqual(backupKeys.filter((key) => key !== "origin").sort());
    expect(schema.resources[backupConfigurationToken].requiredInputs).toEqual(["name", "home"]);
  });

  it("takes types and defaults from the configuration schema", () => {
    const inputs = schema.resources[backupConfigurationToken].inputProperties;
    expect(inputs.enabled).toMatchObject({ type: "boolean", default: backupDefaults.enabled });
    expect(inputs.maxSize.oneOf).toEqual([{ type: "string" }, { type: "number" }]);
    expect(inputs.databases).toMatchObject({ type: "array", items: { $ref: "#/types/app-backup:index:DatabaseBackupSetting" } });
    expect(inputs.storage.oneOf).toEqual([
      { type: "string" },
      { $ref: "#/types/app-backup:index:ConnectionStringStorage" },
      { $ref: "#/types/app-backup:index:AccountUrlStorage" },
      { $ref: "#/types/app-backup:index:FolderStorage" },
    ]);
    const scheduleType = schema.types["app-backup:index:BackupSchedule"];
    for (const [key, value] of Object.entries(scheduleDefaults)) expect(scheduleType.properties[key].default).toBe(value);
    expect(scheduleType.properties.frequencyInterval.type).toBe("integer");
    expect(scheduleType.required).toBeUndefined();
    expect(schema.types["app-backup:index:DatabaseBackupSetting"].required).toEqual(["connectionStringName", "databaseType"]);
  });

  it("marks every credential-bearing input and output secret, and the provider's default storage", () => {
    for (const token of [backupConfigurationToken, backupToken]) {
      for (const key of ["storage", "connectionStrings", "settings"]) {
        expect(schema.resources[token].inputProperties[key].secret).toBe(true);
        expect(schema.resources[token].properties[key].secret).toBe(true);
      }
    }
    expect(schema.config.variables.storage.secret).toBe(true);
    expect(schema.provider.inputProperties.storage.secret).toBe(true);
  });

  it("is what the plugin serves and what the build writes to dist/plugin/schema.json", async () => {
    expect(JSON.parse(await new AppBackupProvider().getSchema())).toEqual(schema);
    expect(JSON.parse(await readFile(path.join(repoRoot, "dist/plugin/schema.json"), "utf8"))).toEqual(schema);
  });

  it("names a configuration schema it cannot translate", () => {
    const translate = new ValibotToPulumi({ tokenPrefix: "x:index:", nameOf: () => undefined, describe: () => undefined });
    expect(() => translate.property(v.date(), "backup.when")).toThrow("The configuration schema at backup.when has a date schema");
    expect(() => translate.property(v.object({ a: v.string() }), "backup.thing")).toThrow("object at backup.thing with no Pulumi type name");
  });
});
