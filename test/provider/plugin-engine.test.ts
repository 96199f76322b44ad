// The provider plugin on the real engine, installed from its tarball as users install it, driven from
// TypeScript (the type tokens, as every generated SDK registers them), YAML and Python (the examples as
// written), and imported by id.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { blobNamesIn } from "../support/azurite-blobs.js";
import { describePluginLifecycle, nodeLifecycleStack, pythonLifecycleStack } from "../support/plugin-lifecycle.js";
import { oldestNode } from "../support/oldest-node.js";
import { pluginVersion } from "../support/pulumi-plugin.js";
import { createPulumiTestStack, type PulumiTestStack } from "../support/pulumi.js";

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/pulumi");

let azurite: Azurite;
let version: string;

beforeAll(async () => {
  [azurite, version] = await Promise.all([startAzurite(), pluginVersion()]);
});
afterAll(async () => {
  await azurite?.stop();
});

/**
 * The resources by type token, as every language's generated SDK registers
 * them: no code of app-backup in the program, only the installed plugin.
 */
class PluginResource extends pulumi.CustomResource {}

function resource(type: string, name: string, props: pulumi.Inputs): pulumi.CustomResource {
  return new PluginResource(`app-backup:index:${type}`, name, props, { version });
}

const outputNames = {
  BackupConfiguration: ["name", "home", "storage", "configurationUrl", "scheduleStartTime", "storageLocation", "backupSchedule", "enabled"],
  Backup: ["backupName", "zipUrl", "status"],
};

function withOutputs(type: keyof typeof outputNames, name: string, props: pulumi.Inputs): Record<string, pulumi.Output<any>> {
  const declared = Object.fromEntries(outputNames[type].filter((key) => !(key in props)).map((key) => [key, undefined]));
  return resource(type, name, { ...declared, ...props }) as unknown as Record<string, pulumi.Output<any>>;
}

/** A TypeScript program on the plugin, its storage from the provider's `app-backup:storage`. */
async function pluginProgram() {
  const config = new pulumi.Config();
  const nightly = withOutputs("BackupConfiguration", "nightly", {
    name: config.get("appName") ?? "shop",
    home: config.require("appHome"),
    settings: { WEBSITE_TIME_ZONE: "UTC" },
    backupSchedule: { frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 30 },
  });
  const beforeRelease = withOutputs("Backup", "before-release", {
    name: nightly.name!,
    home: nightly.home!,
    triggers: [config.require("releaseVersion")],
  });
  return {
    configurationUrl: nightly.configurationUrl,
    releaseBackup: beforeRelease.backupName,
    releaseBackupZip: beforeRelease.zipUrl,
    releaseBackupStatus: beforeRelease.status,
  };
}

describe("the provider plugin on Node 22 (the oldest supported), from a TypeScript program, with the storage in the provider's configuration", () => {
  describePluginLifecycle({
    azurite: () => azurite,
    container: "plugin-typescript",
    storageKey: "app-backup:storage",
    stack: async () =>
      nodeLifecycleStack(await createPulumiTestStack({ projectName: "app-backup-plugin", program: pluginProgram, withPlugin: true, node: await oldestNode() })),
  });
});

describe("examples/pulumi/yaml, run by the pulumi CLI through pulumi-language-yaml", () => {
  describePluginLifecycle({
    azurite: () => azurite,
    container: "plugin-yaml",
    storageKey: "backupStorage",
    stack: async () =>
      nodeLifecycleStack(await createPulumiTestStack({ projectName: "app-backup-yaml-example", projectFiles: [path.join(examples, "yaml/Pulumi.yaml")], withPlugin: true })),
  });
});

describe("examples/pulumi/python, run inline by Python's Automation API on the SDK generated from the schema", () => {
  describePluginLifecycle({
    azurite: () => azurite,
    container: "plugin-python",
    storageKey: "backupStorage",
    stack: () => pythonLifecycleStack({ program: path.join(examples, "python/__main__.py"), projectName: "app-backup-python-example" }),
  });
});

describe("pulumi import of a stored configuration by its id", () => {
  let owner: PulumiTestStack;
  let importer: PulumiTestStack;
  let sasUrl: string;
  let projectDir: string;

  beforeAll(async () => {
    sasUrl = await azurite.containerWithSas("plugin-import");
    // `pulumi import` writes the declaration in the project's language: a YAML project needs no Node language host.
    projectDir = await mkdtemp(path.join(os.tmpdir(), "app-backup-importer-"));
    await writeFile(path.join(projectDir, "Pulumi.yaml"), "name: app-backup-importer\nruntime: yaml\n");
    [owner, importer] = await Promise.all([
      createPulumiTestStack({ projectName: "app-backup-owner", program: pluginProgram, withPlugin: true }),
      createPulumiTestStack({ projectName: "app-backup-importer", projectFiles: [path.join(projectDir, "Pulumi.yaml")], withPlugin: true }),
    ]);
    await owner.stack.setAllConfig({
      appHome: { value: "/srv/shop" },
      releaseVersion: { value: "1.0.0" },
      "app-backup:storage": { value: sasUrl, secret: true },
    });
    await importer.stack.setConfig("app-backup:storage", { value: sasUrl, secret: true });
  });
  afterAll(async () => {
    // The imported resource is the owner's document: the importer lets go of it first.
    await importer?.cleanup();
    await owner?.cleanup();
    if (projectDir) await rm(projectDir, { recursive: true, force: true });
  });

  it("records the document's inputs and outputs, secrets encrypted", async () => {
    // Only the configuration: a backup of /srv/shop is not needed to store it.
    await owner.stack.up({ target: [`urn:pulumi:test::app-backup-owner::app-backup:index:BackupConfiguration::nightly`] });
    const configurationUrl = `${azurite.accountUrl}/plugin-import/shop.backup-config.json`;

    const result = await importer.stack.import({
      resources: [{ type: "app-backup:index:BackupConfiguration", name: "imported", id: configurationUrl, version }],
      protect: false,
    });
    expect(result.summary.result).toBe("succeeded");
    const resources = ((await importer.stack.exportStack()).deployment.resources ?? []) as Array<{ type: string; id?: string; outputs?: Record<string, any> }>;
    const imported = resources.find((item) => item.type === "app-backup:index:BackupConfiguration")!;
    expect(imported.id).toBe(configurationUrl);
    expect(imported.outputs).toMatchObject({
      name: "shop",
      home: "/srv/shop",
      enabled: true,
      configurationUrl,
      backupSchedule: { frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 30, keepAtLeastOneBackup: true, tiered: false },
    });
    expect(JSON.stringify(imported)).not.toContain(new URL(sasUrl).searchParams.get("sig")!);
    // The declaration to paste into the program, in the project's language.
    expect(result.generatedCode).toMatch(/imported:\n\s+type: app-backup:BackupConfiguration\n/);
    expect(result.generatedCode).toContain("home: /srv/shop");
    expect(result.generatedCode).not.toContain(new URL(sasUrl).searchParams.get("sig")!);
    expect(await readFile(importer.stateFilePath, "utf8")).not.toContain(new URL(sasUrl).searchParams.get("sig")!);
  });

  it("says where to set the storage when the provider has none", async () => {
    const bare = await createPulumiTestStack({ projectName: "app-backup-importer", projectFiles: [path.join(projectDir, "Pulumi.yaml")], withPlugin: true });
    onTestFinished(() => bare.cleanup());
    await expect(
      bare.stack.import({
        resources: [{ type: "app-backup:index:BackupConfiguration", name: "other", id: `${azurite.accountUrl}/plugin-import/shop.backup-config.json`, version }],
        protect: false,
      }),
    ).rejects.toThrow(/pulumi config set --secret app-backup:storage/);
    expect(await blobNamesIn(azurite, "plugin-import")).toContain("shop.backup-config.json");
  });
});
