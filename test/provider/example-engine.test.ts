import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, rmdir, symlink, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { freshDatabase, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";
import { createPulumiTestStack, type PulumiTestStack } from "../support/pulumi.js";
import { blobNamesIn, blobText } from "../support/azurite-blobs.js";
import { backendFiles, makeAppHome, zipEntriesOf } from "../support/provider-engine.js";

let azurite: Azurite;
let postgres: PostgresTestServer;
let workDir: string;
let target: PulumiTestStack;
let sasUrl: string;

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/pulumi");
const installedPackage = path.join(exampleDir, "node_modules/app-backup");
let installedHere = false;

/**
 * What `npm install` does with the example's `"app-backup": "file:../.."`: a
 * link to this checkout in its node_modules, so `app-backup/provider` resolves
 * through the package's exports to the build.
 */
async function installExampleDependency(): Promise<void> {
  if (existsSync(installedPackage)) return;
  await mkdir(path.dirname(installedPackage), { recursive: true });
  await symlink("../../..", installedPackage, "dir");
  installedHere = true;
}

async function uninstallExampleDependency(): Promise<void> {
  if (!installedHere) return;
  await unlink(installedPackage);
  await rmdir(path.dirname(installedPackage)).catch(() => undefined);
}

/** examples/pulumi/index.ts as the stack's program: evaluated afresh on each run, as `pulumi` runs it. */
async function exampleProgram(): Promise<Record<string, unknown>> {
  vi.resetModules();
  return { ...(await import("../../examples/pulumi/index.js")) };
}

beforeAll(async () => {
  await installExampleDependency();
  [azurite, postgres] = await Promise.all([startAzurite(), startPostgres()]);
  workDir = await mkdtemp(path.join(os.tmpdir(), "provider-example-"));
  const home = await makeAppHome(workDir);
  const database = await freshDatabase(postgres, "shop");
  await sql(postgres, database, "CREATE TABLE products (id int PRIMARY KEY, name text); INSERT INTO products VALUES (1, 'tea'), (2, 'cake');");
  sasUrl = await azurite.containerWithSas("websitebackups");

  target = await createPulumiTestStack({ projectName: "app-backup-example", program: exampleProgram });
  await target.stack.setAllConfig({
    appHome: { value: home },
    releaseVersion: { value: "2.0.0" },
    backupStorage: { value: sasUrl, secret: true },
    mainDb: { value: JSON.stringify({ host: "127.0.0.1", port: postgres.port, database, user: postgres.user }) },
  });
  target.stack.workspace.envVars.SHOP_DB_PASSWORD = postgres.password;
});

afterAll(async () => {
  await target?.cleanup();
  await Promise.all([azurite?.stop(), postgres?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  await uninstallExampleDependency();
});

describe("examples/pulumi on the Pulumi engine", () => {
  const releaseBackups: string[] = [];

  it("stores a nightly configuration with 30 days' retention and takes a backup before the release", async () => {
    const result = await target.stack.up();

    expect(result.summary.resourceChanges).toEqual({ create: 3 });
    const name = result.outputs.releaseBackup!.value as string;
    releaseBackups.push(name);
    expect(result.outputs.releaseBackupStatus!.value).toBe("Succeeded");
    expect(result.outputs.nextScheduledBackupsFrom!.value).toBe("2026-01-01T02:00:00.000Z");
    const document = JSON.parse(await blobText(azurite, "websitebackups", "shop.backup-config.json"));
    expect(document.backup.schedule).toEqual({
      frequencyInterval: 1,
      frequencyUnit: "Day",
      startTime: "2026-01-01T02:00:00.000Z",
      startTimeSource: "declared",
      retentionPeriodInDays: 30,
      keepAtLeastOneBackup: true,
      tiered: false,
    });
    expect(await zipEntriesOf(azurite, "websitebackups", `${name}.zip`, workDir)).toContain("MainDb.sql");
  });

  it("shows no changes on the next preview", async () => {
    expect((await target.stack.preview()).changeSummary).toEqual({ same: 3 });
  });

  it("takes a new backup for a new releaseVersion and keeps the earlier one", async () => {
    await target.stack.setConfig("releaseVersion", { value: "2.1.0" });
    // Backup names carry the second they were taken.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await target.stack.up();

    expect(result.summary.resourceChanges).toEqual({ same: 2, replace: 1 });
    releaseBackups.push(result.outputs.releaseBackup!.value as string);
    expect(await blobNamesIn(azurite, "websitebackups")).toEqual(
      ["shop.backup-config.json", ...releaseBackups.flatMap((name) => [`${name}.log`, `${name}.xml`, `${name}.zip`])].sort(),
    );
  });

  it("keeps the SAS signature and the database password out of the backend, and destroy keeps the backups", async () => {
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    for (const [file, text] of await backendFiles(target.backendDir)) {
      expect(text.includes(signature), `${file} holds the SAS signature`).toBe(false);
      expect(text.includes(postgres.password), `${file} holds the database password`).toBe(false);
    }

    await target.stack.destroy();

    expect(await blobNamesIn(azurite, "websitebackups")).toEqual(releaseBackups.flatMap((name) => [`${name}.log`, `${name}.xml`, `${name}.zip`]).sort());
  });
});
