import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../core/backup/backup.js";
import { resolveConfig } from "../../core/config/load.js";
import { writeAppServiceSettings } from "../../core/home/app-service/app-service-settings.js";
import type { AppServiceHomeSpec } from "../../core/home/remote-home.js";
import type { AppBackupOptions } from "../../core/options.js";
import { runRestore } from "../../core/restore/restore.js";
import { startKuduStandIn, type KuduStandIn } from "../support/kudu-stand-in.js";
import { execFileSync } from "node:child_process";

/**
 * An App Service app's own settings and connection strings: read through
 * Azure Resource Manager into the backup's meta, and written back only when a
 * restore is asked to (`restoreSettings`, `adjustConnectionStrings`), against
 * the loopback stand-in of ARM's four settings operations.
 */

const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.arm-settings-token.c2ln";
const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
const dbPassword = "Db-Pa55word-7f31c2";
let root: string;
let standIn: KuduStandIn;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "app-service-settings-"));
  const home = path.join(root, "home");
  mkdirSync(path.join(home, "site/wwwroot"), { recursive: true });
  mkdirSync(path.join(home, "data"), { recursive: true });
  writeFileSync(path.join(home, "site/wwwroot/index.html"), "hello");
  standIn = await startKuduStandIn({
    home,
    credentials: { user: "$contoso", password: "publish-pw-0c9e1d" },
    token,
    settings: { WEBSITE_TIME_ZONE: "UTC", FEATURE_FLAGS: "checkout-v2" },
    connectionStrings: { MainDb: { value: `Server=tcp:db.example.com;Database=shop;User ID=app;Password=${dbPassword};`, type: "SQLAzure" } },
  });
});

afterAll(async () => {
  await standIn?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

function appOptions(): AppBackupOptions {
  const [, , subscription, , resourceGroup] = standIn.resourceId.split("/");
  const options = resolveConfig(
    { name: "contoso", home: { appService: standIn.scmUrl, resourceGroup, subscription, armUrl: standIn.armUrl }, backup: { storage: { path: path.join(root, "backups") } } },
    { baseDir: root, env: {} },
  );
  const remote = options.app.remote as AppServiceHomeSpec;
  remote.credential = credential;
  // A loopback SCM URL has no app name in its host: the stand-in's site is named as Azure would know it.
  remote.address.resourceId = standIn.resourceId;
  return options;
}

describe("an App Service app's settings through Azure Resource Manager", () => {
  it("are recorded in the backup's meta (a connection string's password masked), and written back only when asked", async () => {
    const options = appOptions();
    const backup = await runBackup(options);
    expect(backup.status).toBe("Succeeded");
    expect(backup.warnings).toEqual([]);
    // As a user would look: unzip prints the entry.
    const meta = execFileSync("unzip", ["-p", path.join(root, "backups", `${backup.name}.zip`), "meta"], { encoding: "utf8" });
    expect(meta).toContain('name="FEATURE_FLAGS" value="checkout-v2"');
    expect(meta).toContain('name="MainDb"');
    expect(meta).not.toContain(dbPassword);

    // The app's configuration changes after the backup.
    const spec = options.app.remote as AppServiceHomeSpec;
    const changedDb = { value: "Server=tcp:db2.example.com;Database=shop;User ID=app;Password=New-Pa55-1;", type: "SQLAzure" };
    await writeAppServiceSettings(spec, { settings: { WEBSITE_TIME_ZONE: "UTC", FEATURE_FLAGS: "off", ADDED: "1" }, connectionStrings: { MainDb: changedDb } }, { credential, armUrl: standIn.armUrl });

    const filesOnly = await runRestore(options, { backup: backup.name });
    expect(filesOnly.status).toBe("Succeeded");
    expect(standIn.settings).toEqual({ WEBSITE_TIME_ZONE: "UTC", FEATURE_FLAGS: "off", ADDED: "1" });

    const withSettings = await runRestore(options, { backup: backup.name, restoreSettings: true, adjustConnectionStrings: true });
    expect(withSettings.status).toBe("Succeeded");
    expect(withSettings.settingsRestored.sort()).toEqual(["FEATURE_FLAGS", "WEBSITE_TIME_ZONE"]);
    expect(standIn.settings).toEqual({ WEBSITE_TIME_ZONE: "UTC", FEATURE_FLAGS: "checkout-v2" });
    // Its password was never in the backup: the app keeps the value it has.
    expect(standIn.connectionStrings.MainDb).toEqual(changedDb);
    expect(withSettings.warnings.join("\n")).toMatch(/MainDb .*masked/);
  });

  it("a restore asked to write settings into an app known by its SCM URL alone is refused before anything changes", async () => {
    const options = resolveConfig({ name: "contoso", home: { appService: standIn.scmUrl, publishingUser: "$contoso", publishingPassword: "publish-pw-0c9e1d" }, backup: { storage: { path: path.join(root, "backups") } } }, { baseDir: root, env: {} });
    const backup = await runBackup(options);
    writeFileSync(path.join(standIn.home, "site/wwwroot/index.html"), "changed");
    await expect(runRestore(options, { backup: backup.name, restoreSettings: true })).rejects.toThrow(/resource group and subscription/);
    expect(readFileSync(path.join(standIn.home, "site/wwwroot/index.html"), "utf8")).toBe("changed");
  });
});
