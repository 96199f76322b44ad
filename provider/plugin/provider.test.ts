import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppBackupProvider } from "./provider.js";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
const urnOf = (type: string, name: string) => `urn:pulumi:dev::shop-infra::app-backup:index:${type}::${name}`;

let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "plugin-provider-"));
  home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n");
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the plugin's check", () => {
  it("fails a resource with no storage when the provider has none, saying how to set one", async () => {
    const result = await new AppBackupProvider().check(urnOf("BackupConfiguration", "nightly"), {}, { name: "shop", home });
    expect(result.failures).toEqual([
      {
        property: "storage",
        reason: "BackupConfiguration nightly has no storage: set its storage input, or the provider's default with `pulumi config set --secret app-backup:storage <container SAS URL or file:./folder>`.",
      },
    ]);
  });

  it("takes the provider's storage, keeps it and every credential-bearing input secret, and fills in the defaults", async () => {
    const provider = new AppBackupProvider();
    provider.configure({ storage: `file:${dir}/backups` });
    const { inputs } = await provider.check(urnOf("BackupConfiguration", "nightly"), {}, { name: "shop", home, backupSchedule: { frequencyInterval: 1 } });
    expect(inputs).toMatchObject({
      name: "shop",
      storage: secret(`file:${dir}/backups`),
      settings: secret({}),
      connectionStrings: secret({}),
      enabled: true,
      backupSchedule: { frequencyInterval: 1, frequencyUnit: "Day", keepAtLeastOneBackup: true, retentionPeriodInDays: 30, tiered: false },
    });
  });

  it("keeps an input that came in secret a secret, and records where a Backup was declared", async () => {
    const provider = new AppBackupProvider();
    const { inputs } = await provider.check(urnOf("Backup", "before-release"), {}, { name: "shop", home, storage: `file:${dir}/backups`, triggers: [secret("1.0.0")] });
    expect(inputs).toMatchObject({ triggers: secret(["1.0.0"]), origin: { source: "pulumi", project: "shop-infra", stack: "dev", resource: "before-release" } });
  });

  it("names the input a bad value is in", async () => {
    const provider = new AppBackupProvider();
    await expect(
      provider.check(urnOf("BackupConfiguration", "nightly"), {}, { name: "shop", home, storage: `file:${dir}/backups`, backupSchedule: { frequencyUnit: "Week" } }),
    ).rejects.toThrow('- backupSchedule.frequencyUnit: expected "Day" or "Hour"');
  });

  it("refuses a type the package does not have", async () => {
    await expect(new AppBackupProvider().check("urn:pulumi:dev::shop-infra::app-backup:index:Restore::r", {}, {})).rejects.toThrow(
      "app-backup has no resource type app-backup:index:Restore; its types are app-backup:index:BackupConfiguration and app-backup:index:Backup.",
    );
  });
});

describe("the plugin's import", () => {
  it("refuses a Backup, which is taken by creating it", async () => {
    await expect(new AppBackupProvider().read(`file://${dir}/backups/shop_20260101000000.xml`, urnOf("Backup", "old"), {})).rejects.toThrow(
      "app-backup:index:Backup cannot be imported: a Backup is taken by creating it.",
    );
  });

  it("says what an id is when it is not a configuration's address", async () => {
    const provider = new AppBackupProvider();
    provider.configure({ storage: `file:${dir}/backups` });
    await expect(provider.read("shop", urnOf("BackupConfiguration", "nightly"), {})).rejects.toThrow(
      'Cannot import the BackupConfiguration "shop": its id is the address of its stored document, ending in /{app}.backup-config.json',
    );
  });
});
