import { execFileSync, spawn } from "node:child_process";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimNameOf } from "../../core/backup/reserve-name.js";
import { LocalStore } from "../../core/store/local.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { cliPath, repoRoot, runCli } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { backUp, makeApp, shareWithNobody, type TestApp } from "../support/test-app.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

/** The test app with this storage and, given a connection string, its PostgreSQL database in the backup. */
function appWith(storage: string, database?: string): Promise<TestApp> {
  if (!database) return makeApp({ storage });
  return makeApp({
    storage,
    settings: `connectionStrings:\n  MainDb: { type: PostgreSQL, value: "${database}" }\n`,
    extra: "  databases: [ { connectionStringName: MainDb, databaseType: PostgreSql } ]\n",
  });
}

/** The blobs of an Azurite container. */
async function blobsOf(container: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of azurite.service.getContainerClient(container).listBlobsFlat()) names.push(blob.name);
  return names;
}

const sigOf = (sasUrl: string) => new URL(sasUrl).searchParams.get("sig")!;

describe("every exit code, from the real CLI", () => {
  it("0: a backup that succeeded", async () => {
    const app = await makeApp();
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Backup shop_\d{14}: Succeeded/);
  });

  it("1: a backup that ran and failed because a database refused", async () => {
    const app = await appWith("file:./backups", "postgres://app:pw-7781@127.0.0.1:9/main");
    const run = await runCli(["backup", "--config", app.config, "--json"]);
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({ status: "Failed", zip: null, error: expect.stringMatching(/MainDb/) });
    expect(run.stdout + run.stderr).not.toContain("pw-7781");
  });

  it("2: a configuration with several unknown keys names each, with the key it most likely meant", async () => {
    const app = await makeApp();
    await writeFile(app.config, 'name: shop\nhome: ./home\nbackup:\n  storage: "file:./backups"\n  maxsize: 1GB\n  retenton: 3\n  schedul: {}\n');
    const run = await runCli(["backup", "--config", app.config, "--json"]);
    expect(run.code).toBe(2);
    expect(run.json.error.code).toBe("CONFIG_INVALID");
    expect(run.stderr).toContain('- backup: unknown key "maxsize" (did you mean "maxSize"?)');
    expect(run.stderr).toContain('- backup: unknown key "retenton"\n');
    expect(run.stderr).toContain('- backup: unknown key "schedul" (did you mean "schedule"?)');
    expect(await readdir(app.backups).catch(() => [])).toEqual([]);
  });

  it("2: a home this user cannot read is named as the home, not as a filter file", async () => {
    const app = await makeApp();
    await shareWithNobody(app);
    await chmod(app.home, 0o000);
    const run = await runCli(["backup", "--config", app.config, "--json"], { asUser: "nobody" });
    await chmod(app.home, 0o755);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`The app's home ${app.home} cannot be read by this user: permission denied (EACCES).`);
    expect(run.stderr).toMatch(/Run app-backup as a user who can read the home/);
    expect(run.stderr).not.toContain("filter file");
    expect((await readdir(app.backups)).filter((n) => !n.startsWith("."))).toEqual([]);
  });

  it("3: a backup that could not read a file is PartiallySucceeded", async () => {
    const app = await makeApp();
    const locked = path.join(app.home, "site/wwwroot/locked.txt");
    await writeFile(locked, "only root");
    await chmod(locked, 0o000);
    await shareWithNobody(app);
    const run = await runCli(["backup", "--config", app.config], { asUser: "nobody" });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/PartiallySucceeded/);
    expect(run.stdout).toMatch(/not in the backup: fs\/site\/wwwroot\/locked\.txt: permission denied/);
  });

  it("4: verify of a zip that does not match its manifest", async () => {
    const app = await makeApp();
    const name = await backUp(app);
    const zip = path.join(app.backups, `${name}.zip`);
    // Removing an entry from the zip leaves the manifest naming a file the zip no longer holds.
    await new Promise<void>((resolve, reject) =>
      spawn("zip", ["-qd", zip, "fs/data/run.sh"]).on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`zip exited ${code}`)))),
    );
    const run = await runCli(["verify", name, "--config", app.config]);
    expect(run.code).toBe(4);
    expect(run.stdout).toContain("does NOT match its manifest");
    expect(run.stdout).toContain("fs/data/run.sh");
  });

  it("10: storage at a closed loopback port, with the same words for every call", async () => {
    const port = await freePort();
    const storage = `http://127.0.0.1:${port}/devstoreaccount1/c?sv=2024-01-01&sp=racwdl&sig=U0VDUkVU`;
    const app = await appWith(storage);
    const backup = await runCli(["backup", "--config", app.config]);
    expect(backup.code).toBe(10);
    expect(backup.stderr).toContain(`Could not list the container: Azure Storage at http://127.0.0.1:${port}/devstoreaccount1/c cannot be reached: the connection was refused (ECONNREFUSED).`);
    expect(backup.stderr).not.toMatch(/to reach the/);
    const restore = await runCli(["restore", "shop_20300101000000", "--config", app.config]);
    expect(restore.code).toBe(10);
    expect(restore.stderr).toMatch(/Could not read shop_20300101000000\.xml: Azure Storage at .* cannot be reached: the connection was refused/);
    for (const text of [backup.stderr, restore.stderr]) expect(text).not.toContain("U0VDUkVU");
  });

  it("11: a SAS signed with a wrong key", async () => {
    const sasUrl = await azurite.containerWithSas("wrongkey11", { key: Buffer.from("not the account key").toString("base64") });
    const app = await appWith(sasUrl);
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(11);
    expect(run.stderr).toMatch(/Azure Storage refused to list the container at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/wrongkey11 \(HTTP 403 \w+\)\./);
    expect(run.stderr).toContain("Check the SAS token: it must be signed with a current account key, be in force now, and grant read, add, create, write, delete and list (sp=racwdl) on the container.");
    expect(run.stderr).not.toContain(sigOf(sasUrl));
    expect(await blobsOf("wrongkey11")).toEqual([]);
  });

  it("11: an expired SAS is called expired, by a backup before it starts and when the service refuses it", async () => {
    const sasUrl = await azurite.containerWithSas("expired11", { expiresInMs: -30_000 });
    const expiry = new Date(new URL(sasUrl).searchParams.get("se")!).toISOString();
    const app = await appWith(sasUrl);
    const backup = await runCli(["backup", "--config", app.config]);
    expect(backup.code).toBe(11);
    expect(backup.stderr).toContain(`The SAS token in backup.storage expired at ${expiry}, so Azure Storage refuses to write a backup`);
    expect(backup.stderr).toContain("Create a new container SAS granting read, add, create, write, delete and list (sp=racwdl)");
    // `list` makes its request and is refused: the service says only that it refuses, app-backup says why.
    const list = await runCli(["list", "--config", app.config]);
    expect(list.code).toBe(11);
    expect(list.stderr).toMatch(new RegExp(`The SAS token in backup\\.storage expired at ${expiry.replace(/\./g, "\\.")}, so Azure Storage refuses to list the container at .* \\(HTTP 403 \\w+\\)`));
    for (const text of [backup.stderr, list.stderr]) expect(text).not.toContain(sigOf(sasUrl));
    expect(await blobsOf("expired11")).toEqual([]);
  });

  it("11: a read-only SAS fails a backup before any database is contacted or anything written", async () => {
    const sasUrl = await azurite.containerWithSas("readonly11", { permissions: "rl" });
    const app = await appWith(sasUrl, "postgres://app:pw@127.0.0.1:9/main");
    // The walk names a FIFO it leaves out, in a warning: no such warning, no walk.
    execFileSync("mkfifo", [path.join(app.home, "site/wwwroot/queue")]);
    const run = await runCli(["backup", "--config", app.config, "--json"]);
    expect(run.code).toBe(11);
    expect(run.json.error.code).toBe("STORAGE_AUTH");
    expect(run.stderr).toContain("The SAS token in backup.storage grants sp=rl, without c (create) and w (write): it cannot write a backup at");
    expect(run.stderr).not.toMatch(/MainDb|database/i);
    expect(run.stderr).not.toContain("queue");
    expect(run.stderr).not.toContain(sigOf(sasUrl));
    expect(await blobsOf("readonly11")).toEqual([]);
  });

  it("11: a local container this user may not write", async () => {
    const app = await makeApp();
    await shareWithNobody(app);
    await chmod(app.backups, 0o755);
    const run = await runCli(["backup", "--config", app.config], { asUser: "nobody" });
    expect(run.code).toBe(11);
    expect(run.stderr).toContain(`The local container ${app.backups} cannot be written: EACCES`);
    expect(await readdir(app.backups)).toEqual([]);
  });

  it("11: a restore of the latest backup with a SAS that cannot list", async () => {
    const sasUrl = await azurite.containerWithSas("nolist11", { permissions: "r" });
    const app = await appWith(sasUrl);
    const run = await runCli(["restore", "latest", "--config", app.config]);
    expect(run.code).toBe(11);
    expect(run.stderr).toContain("The SAS token in backup.storage grants sp=r, without l (list): it cannot find and read a backup at");
  });

  it("12: a restore of a backup that does not exist, with a hint naming this configuration", async () => {
    const app = await makeApp();
    await backUp(app);
    const run = await runCli(["restore", "shop_20200101000000", "--config", app.config, "--json"]);
    expect(run.code).toBe(12);
    expect(run.json.error.code).toBe("BACKUP_NOT_FOUND");
    expect(run.stderr).toContain(`Run \`app-backup list --config ${app.config}\` to see the backups`);
    expect(run.stderr).not.toContain("--config FILE");
    // A path a shell would split is quoted as the user must type it.
    const spaced = path.join(app.dir, "my app.yml");
    await writeFile(spaced, await readFile(app.config, "utf8"));
    const quoted = await runCli(["restore", "--at", "2000-01-01T00:00:00Z", "--config", spaced]);
    expect(quoted.code).toBe(12);
    expect(quoted.stderr).toContain(`run \`app-backup list --config '${spaced}'\` to see the backups`);
  });

  it("75: a backup while another run is writing the same name", async () => {
    const app = await makeApp();
    const store = new LocalStore(app.backups);
    await store.check();
    const claim = await store.locker.tryLock(claimNameOf("shop_held"), { ttlMs: 60_000, holder: "OnDemand backup of shop" });
    expect(claim.acquired).toBe(true);
    try {
      const run = await runCli(["backup", "--name", "shop_held", "--config", app.config, "--json"]);
      expect(run.code).toBe(75);
      expect(run.json.error.code).toBe("LOCKED");
      expect(run.stderr).toContain("Another backup named shop_held is running");
    } finally {
      if (claim.acquired) await claim.lock.discard();
    }
  });

  it("130: SIGINT stops a running backup cleanly, and nothing of it looks restorable", async () => {
    // A database that accepts the connection and never answers holds the backup mid-way, its zip being written.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const app = await appWith("file:./backups", `postgres://app:pw@127.0.0.1:${port}/main`);
      const child = spawn(process.execPath, [cliPath, "backup", "--config", app.config], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
      const zipBeingWritten = async () => (await readdir(app.backups).catch(() => [] as string[])).some((n) => n.startsWith(".partial-") && n.endsWith(".zip"));
      for (let tries = 0; !(await zipBeingWritten()); tries++) {
        if (tries > 600) throw new Error(`the backup never started writing its zip: ${stderr}`);
        await sleep(50);
      }
      child.kill("SIGINT");
      expect(await exited).toEqual({ code: 130, signal: null });
      expect(stderr).toContain("SIGINT: stopping the backup; what was staged is discarded.");
      // Stopped cleanly: no manifest, and neither the staged zip nor the name's claim is left behind.
      expect((await readdir(app.backups)).filter((n) => !n.startsWith("."))).toEqual([]);
      expect((await readdir(app.backups)).filter((n) => n.startsWith(".partial-"))).toEqual([]);
      const list = await runCli(["list", "--config", app.config, "--json"]);
      expect(list.json.filter((b: { status: string }) => b.status !== "Failed")).toEqual([]);
    } finally {
      silent.close();
    }
  });
});
