import { spawn } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { cliPath, repoRoot } from "../support/cli.js";
import { addSlowContent, localBackupNames, makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";

let azurite: Azurite;
const apps: ScheduledApp[] = [];
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
  for (const app of apps) await rm(app.dir, { recursive: true, force: true });
});

const schedule = "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z' }";
const now = "2030-01-01T00:00:00Z";

/** An app whose backup takes a few seconds, so runners overlap. */
async function slowApp(storage?: string): Promise<ScheduledApp> {
  const app = await makeScheduledApp({ storage, schedule });
  apps.push(app);
  await addSlowContent(app.home, 24);
  return app;
}

async function azureBackupNames(container: string, options: { uncommitted?: boolean } = {}): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of azurite.service.getContainerClient(container).listBlobsFlat({ includeUncommitedBlobs: options.uncommitted })) {
    names.push(blob.name);
  }
  return names.sort();
}

/** Polls until `condition` holds; a test fails by its own assertions, not by how long this took. */
async function until(condition: () => Promise<boolean>, what: string, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting: ${what}`);
    await sleep(20);
  }
}

function startRunner(app: ScheduledApp, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [cliPath, "run-scheduled", "--config", app.config, "--now", now, "--json"], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "ignore"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

describe("one runner at a time", () => {
  it("two runners started together on a local container make one backup; the other exits 75", async () => {
    const app = await slowApp();
    await ok(app, ["configure"]);
    const runs = await Promise.all([app.run(["run-scheduled", "--now", now, "--json"]), app.run(["run-scheduled", "--now", now, "--json"])]);
    expect(runs.map((r) => r.code).sort()).toEqual([0, 75]);
    const locked = runs.find((r) => r.code === 75)!;
    expect(locked.json).toMatchObject({ status: "Error", error: { code: "LOCKED" } });
    expect(locked.stderr).toMatch(/Another runner holds the lock of shop \(run-scheduled of shop \(pid \d+ on .+\), until .*\); nothing was done\./);
    expect(runs.find((r) => r.code === 0)!.json).toMatchObject({ due: true, backup: { name: "shop_20300101000000", status: "Succeeded" } });
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300101000000"]);
  });

  it("two runners started together on Azure Blob Storage make one backup; the other exits 75", async () => {
    const container = `together${Date.now()}`;
    const app = await slowApp(await azurite.containerWithSas(container));
    await ok(app, ["configure"]);
    const runs = await Promise.all([app.run(["run-scheduled", "--now", now, "--json"]), app.run(["run-scheduled", "--now", now, "--json"])]);
    expect(runs.map((r) => r.code).sort()).toEqual([0, 75]);
    expect(runs.find((r) => r.code === 75)!.stderr).toContain("Another runner holds the lock of shop");
    expect((await azureBackupNames(container)).filter((n) => n.startsWith("shop_"))).toEqual([
      "shop_20300101000000.log",
      "shop_20300101000000.xml",
      "shop_20300101000000.zip",
    ]);
  });

  it("a runner killed mid-backup leaves a local lock that expires by itself; a later run proceeds", async () => {
    const app = await slowApp();
    const env = { APP_BACKUP_LOCK_TTL_SECONDS: "10" };
    await ok(app, ["configure"]);
    const runner = startRunner(app, env);
    const lockFile = async () => (await readdir(app.backups)).find((n) => /^shop\.lock\.\d+$/.test(n));
    // Mid-backup: the zip is being written (a hidden partial file) and no manifest exists yet.
    await until(async () => (await readdir(app.backups).catch(() => [])).some((n) => n.startsWith(".partial-") && n.endsWith("shop_20300101000000.zip")), "the zip being written");
    runner.child.kill("SIGKILL");
    expect(await runner.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(await localBackupNames(app.backups)).toEqual([]);
    const record = JSON.parse(await readFile(path.join(app.backups, (await lockFile())!), "utf8"));
    expect(record).toMatchObject({ pid: runner.child.pid, holder: expect.stringContaining("run-scheduled of shop") });
    expect(record.released).toBeUndefined();

    const blocked = await app.run(["run-scheduled", "--now", now, "--json"], env);
    expect(blocked.code).toBe(75);
    expect(blocked.stderr).toContain(`pid ${runner.child.pid}`);
    expect(await localBackupNames(app.backups)).toEqual([]);

    await sleep(Math.max(0, Date.parse(record.expiresAt) - Date.now()) + 200);
    const later = await app.run(["run-scheduled", "--now", now, "--json"], env);
    expect(later.code).toBe(0);
    expect(later.json).toMatchObject({ due: true, backup: { name: "shop_20300101000000", status: "Succeeded" } });
    expect(await localBackupNames(app.backups)).toEqual(["shop_20300101000000"]);
  });

  it("a runner killed mid-backup leaves an Azure lease that expires by itself; a later run proceeds", async () => {
    const container = `killed${Date.now()}`;
    const app = await slowApp(await azurite.containerWithSas(container));
    const env = { APP_BACKUP_LOCK_TTL_SECONDS: "15" };
    await ok(app, ["configure"]);
    const runner = startRunner(app, env);
    const lockBlob = azurite.service.getContainerClient(container).getBlobClient("shop.lock");
    // Mid-backup: blocks of the zip are staged (uncommitted) and no manifest exists yet.
    await until(async () => (await azureBackupNames(container, { uncommitted: true })).includes("shop_20300101000000.zip"), "zip blocks being staged");
    runner.child.kill("SIGKILL");
    await runner.exited;
    expect((await azureBackupNames(container)).filter((n) => n.startsWith("shop_"))).toEqual([]);
    expect((await lockBlob.getProperties()).leaseState).toBe("leased");

    const blocked = await app.run(["run-scheduled", "--now", now, "--json"], env);
    expect(blocked.code).toBe(75);
    expect(blocked.stderr).toContain(`pid ${runner.child.pid}`);

    await until(async () => (await lockBlob.getProperties()).leaseState !== "leased", "the lease to expire");
    const later = await app.run(["run-scheduled", "--now", now, "--json"], env);
    expect(later.code).toBe(0);
    expect(later.json).toMatchObject({ due: true, backup: { name: "shop_20300101000000", status: "Succeeded" } });
    expect((await azureBackupNames(container)).filter((n) => n.startsWith("shop_"))).toEqual([
      "shop_20300101000000.log",
      "shop_20300101000000.xml",
      "shop_20300101000000.zip",
    ]);
  });
});
