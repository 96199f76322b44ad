import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backup, BackupConfiguration } from "../provider/index.js";
import { runCli } from "./support/cli.js";
import { backendFiles } from "./support/provider-engine.js";
import { createPulumiTestStack, type PulumiTestStack } from "./support/pulumi.js";
import { makeDeployKey, makeRemoteHome, treeOf, type DeployKey } from "./support/remote-home.js";
import { startSshd, type TestSshd } from "./support/sshd.js";

/**
 * app-backup's Pulumi resources on the real engine (inline program, file backend, passphrase
 * secrets) with a home on another machine: `home` an sftp:// URL and `sftp` the login, against a
 * real OpenSSH sshd on loopback. The login is written out in the program, as a user who has not
 * wrapped it in a secret would: the resources must keep it out of the state all the same.
 */

/** Pulumi marks each encrypted value in the state with this signature key. */
const secretSignature = "4dabf18193072939515e22adb298388d";

let sshd: TestSshd;
let folder: string;
let remoteHome: string;
let address: string;
let knownHosts: string;
let key: DeployKey;

beforeAll(async () => {
  sshd = await startSshd();
  folder = mkdtempSync(path.join(os.tmpdir(), "pulumi-remote-"));
  remoteHome = path.join(folder, "remote-home");
  makeRemoteHome(remoteHome);
  address = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${remoteHome}`;
  knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n`);
  key = makeDeployKey(sshd, folder, "pulumi-key-passphrase-0e6b42d9");
});

afterAll(async () => {
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function login() {
  return { privateKey: key.text, passphrase: key.passphrase, knownHosts };
}

/** Fails naming the file when it holds a line of the key's body or the passphrase. */
function expectNoLogin(text: string, where: string): void {
  for (const line of key.bodyLines) expect(text.includes(line), `${where} holds a line of the private key`).toBe(false);
  expect(text.includes(key.passphrase), `${where} holds the key's passphrase`).toBe(false);
}

/** Restores a backup from a local container into a fresh local folder with the CLI, and returns that folder's tree. */
async function restoredTree(container: string, backupName: string): Promise<ReturnType<typeof treeOf>> {
  const dir = mkdtempSync(path.join(folder, "restore-"));
  const config = path.join(dir, "app-backup.yml");
  writeFileSync(config, `name: shop\nhome: ./restored\nbackup:\n  storage:\n    path: ${container}\n`);
  const restore = await runCli(["restore", backupName, "--config", config, "--yes", "--json"]);
  expect(restore.stderr).not.toMatch(/^error/m);
  expect(restore.code).toBe(0);
  return treeOf(path.join(dir, "restored"));
}

/** The container's objects: a local container's hidden files are its records of their metadata, not objects. */
function objectsIn(container: string): string[] {
  return readdirSync(container)
    .filter((name) => !name.startsWith("."))
    .sort();
}

interface StateResource {
  type: string;
  outputs?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
}

async function stateResource(target: PulumiTestStack, type: string): Promise<StateResource> {
  const resources = ((await target.stack.exportStack()).deployment.resources ?? []) as StateResource[];
  const found = resources.find((resource) => resource.type === type);
  expect(found, `the state has a ${type}`).toBeDefined();
  return found!;
}

describe("a Backup of an sftp:// home on the Pulumi engine", () => {
  let target: PulumiTestStack;
  let container: string;

  beforeAll(async () => {
    container = path.join(folder, "backups-direct");
    target = await createPulumiTestStack({
      projectName: "app-backup-remote-backup",
      program: async () => {
        const snapshot = new Backup("before-release", { name: "shop", home: address, sftp: login(), storage: `file:${container}` });
        return { name: snapshot.backupName, status: snapshot.status };
      },
    });
  });

  afterAll(async () => {
    await target?.cleanup();
  });

  it("up takes the snapshot over SFTP: the container holds a backup of the remote files, path for path", async () => {
    const result = await target.stack.up();

    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ create: 2 });
    const name = result.outputs.name!.value as string;
    expect(name).toMatch(/^shop_\d{14}$/);
    expect(result.outputs.status!.value).toBe("Succeeded");
    expect(objectsIn(container)).toEqual([`${name}.log`, `${name}.xml`, `${name}.zip`]);
    expect(readFileSync(path.join(container, `${name}.xml`), "utf8")).toContain("<Status>Succeeded</Status>");
    expect(await restoredTree(container, name)).toEqual(treeOf(remoteHome));
  });

  it("the key and its passphrase are in no file of the backend nor of the container; the state holds the login encrypted", async () => {
    const files = await backendFiles(target.backendDir);
    expect(files.has(target.stateFilePath)).toBe(true);
    for (const [file, text] of files) expectNoLogin(text, file);
    for (const name of readdirSync(container).filter((file) => !file.endsWith(".zip"))) {
      expectNoLogin(readFileSync(path.join(container, name), "utf8"), name);
    }

    const backup = await stateResource(target, "pulumi-nodejs:dynamic/app-backup:Backup");
    expect(backup.outputs?.home).toBe(address);
    expect(Object.keys(backup.outputs?.sftp as object)).toContain(secretSignature);
  });

  it("a second preview shows no changes: no new snapshot is taken", async () => {
    const preview = await target.stack.preview();

    expect(preview.changeSummary).toEqual({ same: 2 });
  });
});

describe("a BackupConfiguration of an sftp:// home, and a Backup of it, on the Pulumi engine", () => {
  let target: PulumiTestStack;
  let container: string;

  beforeAll(async () => {
    container = path.join(folder, "backups-configured");
    target = await createPulumiTestStack({
      projectName: "app-backup-remote-configuration",
      program: async () => {
        const nightly = new BackupConfiguration("nightly", {
          name: "shop",
          home: address,
          sftp: login(),
          storage: `file:${container}`,
          backupSchedule: { frequencyInterval: 1, frequencyUnit: "Day", retentionPeriodInDays: 30 },
        });
        const snapshot = new Backup("before-release", { configuration: nightly });
        return { configurationUrl: nightly.configurationUrl, name: snapshot.backupName, status: snapshot.status };
      },
    });
  });

  afterAll(async () => {
    await target?.cleanup();
  });

  it("up stores the configuration without the login, and the Backup of it logs in with the configuration's sftp", async () => {
    const result = await target.stack.up();

    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ create: 3 });
    const document = readFileSync(path.join(container, "shop.backup-config.json"), "utf8");
    expectNoLogin(document, "the stored configuration");
    expect(JSON.parse(document).app.home).toBe(address);

    const name = result.outputs.name!.value as string;
    expect(result.outputs.status!.value).toBe("Succeeded");
    expect(objectsIn(container)).toEqual(["shop.backup-config.json", `${name}.log`, `${name}.xml`, `${name}.zip`]);
    expect(await restoredTree(container, name)).toEqual(treeOf(remoteHome));
  });

  it("the key and its passphrase are in no file of the backend nor of the container; both resources hold the login encrypted", async () => {
    const files = await backendFiles(target.backendDir);
    expect(files.has(target.stateFilePath)).toBe(true);
    for (const [file, text] of files) expectNoLogin(text, file);
    for (const name of readdirSync(container).filter((file) => !file.endsWith(".zip"))) {
      expectNoLogin(readFileSync(path.join(container, name), "utf8"), name);
    }
    for (const type of ["pulumi-nodejs:dynamic/app-backup:BackupConfiguration", "pulumi-nodejs:dynamic/app-backup:Backup"]) {
      expect(Object.keys((await stateResource(target, type)).outputs?.sftp as object)).toContain(secretSignature);
    }
  });

  it("a second preview shows no changes", async () => {
    const preview = await target.stack.preview();

    expect(preview.changeSummary).toEqual({ same: 3 });
  });
});
