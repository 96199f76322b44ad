import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";
import { runCliMeasured, type MeasuredRun } from "../support/cli.js";
import { junkObjects } from "../support/junk-objects.js";

const peakRssMb = (run: MeasuredRun) => run.peakRssBytes / 1024 / 1024;

/**
 * Far above what a command needs (about 100 MB), far below what reading a
 * 30 MB object whole into a parser takes (over 1 GB).
 */
const peakRssBoundMb = 400;

/** The junk's names, for warnings: everything named like a manifest that is not one. */
const skippedJunk = ["big.xml", "empty.xml", "binary.xml", "bomb.xml", "shop_20290101000000.xml", "shop_20290102000000.xml"];

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

/** Junk under names that never collide with the app's real backups. */
function junk() {
  return junkObjects().map((o) => ({
    ...o,
    name: o.name.replace("shop_20300103000000", "shop_20290101000000").replace("shop_20300104000000", "shop_20290102000000"),
  }));
}

async function appWithBackups(storage?: string): Promise<ScheduledApp> {
  const app = await makeScheduledApp({
    storage,
    schedule: "{ frequencyInterval: 1, frequencyUnit: Day, startTime: '2030-01-01T00:00:00Z', retentionPeriodInDays: 5 }",
  });
  await ok(app, ["configure"]);
  await ok(app, ["run-scheduled", "--now", "2030-01-01T00:00:00Z"]);
  await ok(app, ["run-scheduled", "--now", "2030-01-02T00:00:00Z"]);
  await ok(app, ["backup", "--name", "shop_ondemand"]);
  return app;
}

async function measured(app: ScheduledApp, args: string[]) {
  const run = await runCliMeasured([...args, "--config", app.config, "--json"]);
  expect(run.stderr.split("\n").filter((l) => l.startsWith("error")), args.join(" ")).toEqual([]);
  expect(run.code, args.join(" ")).toBe(0);
  expect(peakRssMb(run), `${args.join(" ")}: peak RSS ${peakRssMb(run).toFixed(0)} MB`).toBeLessThan(peakRssBoundMb);
  return run;
}

/** list, run-scheduled, prune and restore latest, each in bounded memory, each ignoring the junk. */
async function commandsIgnoreJunk(app: ScheduledApp, objectExists: (name: string) => Promise<boolean>) {
  const list = await measured(app, ["list"]);
  expect(list.json.map((b: { name: string }) => b.name).sort()).toEqual(["shop_20300101000000", "shop_20300102000000", "shop_ondemand"]);
  const skipped = (stderr: string, name: string) => new RegExp(`warning: Skipped \\S*${name.replace(".", "\\.")}: .*not an app-backup manifest`).test(stderr);
  // The app's listing looks only under its own prefix: junk elsewhere is never even read.
  for (const name of skippedJunk) expect(skipped(list.stderr, name), name).toBe(name.startsWith("shop_"));

  const all = await measured(app, ["list", "--all-apps"]);
  for (const name of skippedJunk) expect(skipped(all.stderr, name), name).toBe(true);
  const endless = all.json.find((b: { name: string }) => b.name === "endless-head");
  expect(endless).toMatchObject({ status: "Failed" });
  // Read to its end in bounded memory (its 30 MB of warnings are passed over), then refused as incomplete.
  expect(endless.error).toMatch(/The manifest endless-head\.xml lacks/);
  expect(all.json.map((b: { name: string }) => b.name)).not.toContain("big");

  const scheduled = await measured(app, ["run-scheduled", "--now", "2030-01-03T00:00:00Z"]);
  expect(scheduled.json).toMatchObject({ due: true, backup: { name: "shop_20300103000000", status: "Succeeded" } });

  const dry = await measured(app, ["prune", "--dry-run", "--now", "2030-01-08T12:00:00Z"]);
  expect(dry.json.deleted.sort()).toEqual(["shop_20300101000000", "shop_20300102000000"]);
  const pruned = await measured(app, ["prune", "--now", "2030-01-08T12:00:00Z"]);
  expect(pruned.json.deleted.sort()).toEqual(["shop_20300101000000", "shop_20300102000000"]);
  for (const { name } of junk()) expect(await objectExists(name), name).toBe(true);

  const restore = await measured(app, ["restore", "latest", "--dry-run"]);
  expect(restore.json.backup).toBe("shop_20300103000000");

  // Named outright, someone else's object is refused from its first bytes, not read whole.
  const named = await runCliMeasured(["restore", "big", "--dry-run", "--config", app.config, "--json"]);
  expect(named.code).toBe(1);
  expect(named.stderr).toMatch(/big\.xml is not an app-backup manifest \(it does not start with <BackupManifest>\)/);
  expect(peakRssMb(named), `restore big: peak RSS ${peakRssMb(named).toFixed(0)} MB`).toBeLessThan(peakRssBoundMb);
}

describe("the catalog in a container holding objects that are not ours", () => {
  it("local folder: list, run-scheduled, prune and restore latest skip junk with a warning, in bounded memory", async () => {
    const app = await appWithBackups();
    for (const { name, data } of junk()) await writeFile(path.join(app.backups, name), data);
    await commandsIgnoreJunk(app, async (name) => existsSync(path.join(app.backups, name)));
  });

  it("Azure Blob Storage: the same, reading no more than a bounded head of any blob", async () => {
    const sas = await azurite.containerWithSas("hostile-catalog");
    const app = await appWithBackups(sas);
    const container = azurite.service.getContainerClient("hostile-catalog");
    for (const { name, data } of junk()) await container.getBlockBlobClient(name).uploadData(data);
    await commandsIgnoreJunk(app, (name) => container.getBlobClient(name).exists());
  });
});
