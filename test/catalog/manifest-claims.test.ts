import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { makeScheduledApp, ok, type ScheduledApp } from "../support/scheduled-app.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const indexOf = (app: ScheduledApp) => readFile(path.join(app.home, "site/wwwroot/index.html"), "utf8");

/** Rewrites a manifest's backup name and zip name, as someone with write access to a container could. */
function forged(manifest: string, backupName: string, zipName: string): string {
  return manifest.replace(/<BackupName>[^<]*<\/BackupName>/, `<BackupName>${backupName}</BackupName>`).replace(/<Zip name="[^"]*"/, `<Zip name="${zipName}"`);
}

describe("a manifest speaks only for its own backup", () => {
  it("on Azure: a manifest pointing at another container's zip, naming another backup, or of another app is BACKUP_CORRUPT before the zip is read", async () => {
    // The victim: another app's container with a real backup.
    const victimSas = await azurite.containerWithSas("victim");
    const victim = await makeScheduledApp({ storage: victimSas });
    await writeFile(path.join(victim.home, "site/wwwroot/index.html"), "<h1>victim</h1>\n");
    const victimBackup = await ok(victim, ["backup"]);
    const victimManifest = (await azurite.service.getContainerClient("victim").getBlobClient(`${victimBackup.name}.xml`).downloadToBuffer()).toString("utf8");

    // The app being restored, with a container someone else can write to.
    const ownSas = await azurite.containerWithSas("hostile-claims");
    const app = await makeScheduledApp({ storage: ownSas });
    const own = azurite.service.getContainerClient("hostile-claims");
    const put = (name: string, text: string) => own.getBlockBlobClient(name).uploadData(Buffer.from(text));

    // 1. A manifest whose zip is "../victim/…": on blob storage that path is the victim container's zip.
    await put("shop_20300101000000.xml", forged(victimManifest, "shop_20300101000000", `../victim/${victimBackup.name}.zip`));
    const traversal = await app.run(["restore", "shop_20300101000000", "--json"]);
    expect(traversal.code).toBe(1);
    expect(traversal.stderr).toContain(`names the zip "../victim/${victimBackup.name}.zip", not shop_20300101000000.zip`);
    expect(traversal.stderr).toMatch(/altered or copied from another backup/);
    expect(await indexOf(app)).toBe("<h1>shop</h1>\n");

    // 2. A manifest copied from another backup under a new name, with that name's zip beside it.
    await put("shop_20300102000000.xml", victimManifest);
    await own.getBlockBlobClient("shop_20300102000000.zip").syncCopyFromURL(`${victimSas.split("?")[0]}/${victimBackup.name}.zip?${victimSas.split("?")[1]}`);
    const copied = await app.run(["restore", "shop_20300102000000", "--json"]);
    expect(copied.code).toBe(1);
    expect(copied.stderr).toContain(`names backup "${victimBackup.name}", not shop_20300102000000`);
    expect(await indexOf(app)).toBe("<h1>shop</h1>\n");

    // 3. A genuine backup of another app in the same container, restored with this app's configuration.
    const other = await makeScheduledApp({ storage: ownSas, app: "other" });
    const otherBackup = await ok(other, ["backup"]);
    const foreignApp = await app.run(["restore", otherBackup.name, "--json"]);
    expect(foreignApp.code).toBe(1);
    expect(foreignApp.stderr).toContain(`is a backup of app "other", not of shop`);
    expect(await indexOf(app)).toBe("<h1>shop</h1>\n");

    // `restore latest` and `list` never offer the forged manifests.
    const latest = await app.run(["restore", "latest", "--json"]);
    expect(latest.code).toBe(12);
    expect(latest.stderr).toContain("No restorable backup of shop");
    const list = await app.run(["list", "--json"]);
    expect(list.json).toEqual([]);
    expect(list.stderr).toMatch(/warning: Skipped \S*shop_20300101000000\.xml: .*names the zip/);
    expect(list.stderr).toMatch(/warning: Skipped \S*shop_20300102000000\.xml: .*names backup/);
    expect(await indexOf(app)).toBe("<h1>shop</h1>\n");
  });
});
