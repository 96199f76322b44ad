import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliRun } from "../support/cli.js";
import { makeDeployKey, makeRemoteHome, treeOf, type DeployKey } from "../support/remote-home.js";
import { localBackupNames } from "../support/scheduled-app.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

/**
 * A scheduled backup of an app on another machine, as a user sets it up: `configure` stores the
 * app's backup configuration in its container (without the SFTP login), and an hourly
 * `run-scheduled` on a runner backs the remote home up over SFTP with the login from its own
 * configuration file. The server is a real OpenSSH sshd on loopback.
 */

const passphrase = "key-passphrase-5d1c9e7a";
const password = "ssh-password-83b2f604";
const schedule = "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T02:00:00Z' }";

let sshd: TestSshd;
let folder: string;
let knownHosts: string;
let key: DeployKey;

beforeAll(async () => {
  sshd = await startSshd();
  folder = mkdtempSync(path.join(os.tmpdir(), "sched-remote-"));
  knownHosts = path.join(folder, "known_hosts");
  writeFileSync(knownHosts, `${sshd.hostKeyLine}\n`);
  key = makeDeployKey(sshd, folder, passphrase);
});

afterAll(async () => {
  await sshd?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface RemoteApp {
  dir: string;
  /** The home's folder on the server (the same machine here). */
  home: string;
  /** The home as the configuration writes it. */
  address: string;
  config: string;
  backups: string;
}

/** An app whose home is on the SFTP server; its configuration holds the login (key from the environment, passphrase and password written out). */
function makeRemoteApp(name: string): RemoteApp {
  const dir = mkdtempSync(path.join(folder, `${name}-`));
  const home = path.join(dir, "remote-home");
  makeRemoteHome(home);
  const address = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${home}`;
  const config = path.join(dir, "app-backup.yml");
  writeFileSync(config, appConfig(name, address, { login: true }));
  return { dir, home, address, config, backups: path.join(dir, "backups") };
}

function appConfig(name: string, home: string, { login }: { login: boolean }): string {
  const sftp = login ? `sftp:\n  privateKey: \${env:DEPLOY_KEY}\n  passphrase: ${passphrase}\n  password: ${password}\n  knownHosts: ${knownHosts}\n` : "";
  return `name: ${name}\nhome: ${home}\n${sftp}backup:\n  storage: file:./backups\n  schedule: ${schedule}\n`;
}

function run(config: string, args: string[]): Promise<CliRun> {
  return runCli([...args, "--config", config, "--json"], { env: { DEPLOY_KEY: key.text } });
}

/** Fails naming the file and the secret when any of them is in the text. */
function expectNoSecret(text: string, where: string): void {
  for (const line of key.bodyLines) expect(text.includes(line), `${where} holds a line of the private key`).toBe(false);
  expect(text.includes(passphrase), `${where} holds the key's passphrase`).toBe(false);
  expect(text.includes(password), `${where} holds the SFTP password`).toBe(false);
}

describe("run-scheduled with a home on another machine over SFTP", () => {
  it("configure stores no login; the due run backs the remote home up, exactly as it is there; a second run at the same time does nothing", async () => {
    const app = makeRemoteApp("shop");

    const configure = await run(app.config, ["configure"]);
    expect(configure.stderr).not.toMatch(/^error/m);
    expect(configure.code).toBe(0);
    expect(configure.json.configuration.app.home).toBe(app.address);
    expectNoSecret(configure.stdout + configure.stderr, "configure's output");
    const documentPath = path.join(app.backups, "shop.backup-config.json");
    const document = readFileSync(documentPath, "utf8");
    expectNoSecret(document, "the stored configuration");
    expect(JSON.parse(document).app.home).toBe(app.address);

    const first = await run(app.config, ["run-scheduled", "--now", "2030-01-01T02:00:00Z"]);
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ due: true, differences: [], backup: { name: "shop_20300101020000", status: "Succeeded", trigger: "Scheduled" } });
    expectNoSecret(first.stdout + first.stderr, "run-scheduled's output");
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300101020000"]);
    for (const name of readdirSync(app.backups).filter((file) => !file.endsWith(".zip"))) {
      expectNoSecret(readFileSync(path.join(app.backups, name), "utf8"), name);
    }

    // The backup restored into a local folder is the remote home, path for path.
    const target = path.join(app.dir, "restored.yml");
    writeFileSync(target, `name: shop\nhome: ./restored\nbackup:\n  storage: file:./backups\n`);
    const restore = await run(app.config, ["restore", "shop_20300101020000", "--to", target, "--yes"]);
    expect(restore.stderr).not.toMatch(/^error/m);
    expect(restore.code).toBe(0);
    expect(treeOf(path.join(app.dir, "restored"))).toEqual(treeOf(app.home));

    // The slot's backup is made: the same time again is not due, and nothing new is written.
    const again = await run(app.config, ["run-scheduled", "--now", "2030-01-01T02:00:00Z"]);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ due: false, backup: null, lastScheduled: { name: "shop_20300101020000" }, nextDueAt: "2030-01-02T02:00:00.000Z" });
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300101020000"]);
  });

  it("a runner whose configuration gives the login for another home, or none, fails with exit 2 saying which home needs it; no backup is made", async () => {
    const app = makeRemoteApp("shop");
    expect((await run(app.config, ["configure"])).code).toBe(0);

    // The runner's file names the same server but another folder: its login is for that home, not the stored one.
    const elsewhere = path.join(app.dir, "runner-elsewhere.yml");
    const otherAddress = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${app.dir}/other-home`;
    writeFileSync(elsewhere, appConfig("shop", otherAddress, { login: true }));
    const differs = await run(elsewhere, ["run-scheduled", "--now", "2030-01-01T02:00:00Z"]);
    expect(differs.code).toBe(2);
    const differsError = differs.json.error.message;
    expect(differsError).toContain(`The stored configuration of shop backs up the home ${app.address}, whose SFTP login is never stored`);
    expect(differsError).toContain(`${elsewhere} gives the login of another home, ${otherAddress}`);
    expect(differs.stderr).toContain(`Set home in ${elsewhere} to ${app.address} with its sftp: login`);
    expectNoSecret(differs.stdout + differs.stderr, "the failed run's output");

    // The runner's file names a local folder: it has no login at all.
    const local = path.join(app.dir, "runner-local.yml");
    mkdirSync(path.join(app.dir, "local-home"));
    writeFileSync(local, appConfig("shop", "./local-home", { login: false }));
    const localRun = await run(local, ["run-scheduled", "--now", "2030-01-01T02:00:00Z"]);
    expect(localRun.code).toBe(2);
    expect(localRun.json.error.message).toContain(`${local} gives no login for it (its home is ${path.join(app.dir, "local-home")})`);

    // The runner's file names the stored home but has no sftp: section.
    const noLogin = path.join(app.dir, "runner-no-login.yml");
    writeFileSync(noLogin, appConfig("shop", app.address, { login: false }));
    const missing = await run(noLogin, ["run-scheduled", "--now", "2030-01-01T02:00:00Z"]);
    expect(missing.code).toBe(2);
    expect(missing.json.error.message).toContain(`No credentials are given for the home ${app.address}.`);
    expect(missing.stderr).toContain("Give a private key (privateKey: ${env:NAME} or privateKeyFile)");

    expect(await localBackupNames(app.backups)).toEqual([]);
    // A runner with the stored home's login then makes the slot's backup.
    const fixed = await run(app.config, ["run-scheduled", "--now", "2030-01-01T02:00:00Z"]);
    expect(fixed.code).toBe(0);
    expect(fixed.json).toMatchObject({ due: true, backup: { name: "shop_20300101020000", status: "Succeeded" } });
  });
});
