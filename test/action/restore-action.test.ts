import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { makeWorkspace, removeTemporaryFolders } from "../support/action-workspace.js";
import { runAction } from "../support/run-action.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await removeTemporaryFolders();
  await azurite?.stop();
});

/** Every file under a folder with its content, by home-relative path. */
async function tree(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath, entry.name);
    files[path.relative(folder, absolute)] = await readFile(absolute, "utf8");
  }
  return files;
}

describe("operations list, verify and restore", () => {
  it("lists the backups, verifies one by reading its data, and restores it over a changed home", async () => {
    const { workspace, home } = await makeWorkspace();
    const sasUrl = await azurite.containerWithSas("releases");
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    const app = { "app-name": "shop", home: "home", storage: sasUrl };
    const original = await tree(home);

    const first = await runAction({ workspace, inputs: { ...app, "backup-name": "shop_release-1" } });
    expect(first.code).toBe(0);
    await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>release 2</h1>\n");
    const second = await runAction({ workspace, inputs: app });
    expect(second.code).toBe(0);

    const list = await runAction({ workspace, inputs: { ...app, home: "", operation: "list" } });
    expect(list.errors).toEqual([]);
    expect(list.code).toBe(0);
    const backups = JSON.parse(list.outputs.backups!) as Array<{ name: string; status: string; zip: string; files: number }>;
    expect(backups.map((b) => b.name)).toEqual([second.outputs["backup-name"], "shop_release-1"]);
    expect(backups[1]).toMatchObject({ status: "Succeeded", files: 3, zip: first.outputs["zip-url"] });
    expect(list.outputs["backup-name"]).toBe(second.outputs["backup-name"]);
    expect(list.outputs["zip-url"]).toBe(second.outputs["zip-url"]);
    expect(list.summary).toMatch(/\| Name \| Status \| Trigger \| Size \| Files \| Started \(UTC\) \|/);
    expect(list.summary).toMatch(/\| shop_release-1 \| Succeeded \| OnDemand \| [\d.]+ (B|KB) \| 3 \|/);

    const verify = await runAction({ workspace, inputs: { ...app, home: "", operation: "verify", "backup-name": "shop_release-1", "read-data": "true" } });
    expect(verify.errors).toEqual([]);
    expect(verify.code).toBe(0);
    expect(verify.outputs).toMatchObject({ "backup-name": "shop_release-1", status: "Verified" });
    expect(verify.summary).toContain("verify shop_release-1 Verified");
    expect(verify.summary).toMatch(/entries listed, \d+ read \([\d.]+ (B|KB)\) and checked against their SHA-256/);

    await writeFile(path.join(home, "site/wwwroot/new-page.html"), "added after the backup");
    await rm(path.join(home, "site/wwwroot/css"), { recursive: true });
    const restore = await runAction({ workspace, inputs: { ...app, operation: "restore", "backup-name": "shop_release-1" } });
    expect(restore.errors).toEqual([]);
    expect(restore.code).toBe(0);
    expect(restore.outputs).toMatchObject({ "backup-name": "shop_release-1", status: "Succeeded", files: "3" });
    expect(await tree(home)).toEqual(original);
    expect(restore.summary).toContain("restore of shop_release-1 into shop Succeeded");
    expect(restore.state["restore-home"]).toBe(home);
    expect((await readdir(workspace)).sort()).toEqual(["home"]);

    for (const run of [first, second, list, verify, restore]) {
      expect([run.visibleLog, run.stderr, run.files].join("\n")).not.toContain(signature);
    }
  });

  it("restores the newest backup into the staging app of target-config, after a dry run that changes nothing", async () => {
    const { workspace, home } = await makeWorkspace();
    const app = { "app-name": "shop", home: "home", storage: "file:./backups" };
    expect((await runAction({ workspace, inputs: app })).code).toBe(0);
    const staging = path.join(workspace, "staging-home");
    await mkdir(path.join(staging, "site/wwwroot"), { recursive: true });
    await writeFile(path.join(staging, "site/wwwroot/old.html"), "staging's own page");
    await writeFile(path.join(workspace, "staging.yml"), "name: shop-staging\nhome: ./staging-home\n");

    const restoreInputs = { "app-name": "shop", storage: "file:./backups", operation: "restore", "backup-name": "latest", "target-config": "staging.yml" };
    const dryRun = await runAction({ workspace, inputs: { ...restoreInputs, "dry-run": "true" } });
    expect(dryRun.errors).toEqual([]);
    expect(dryRun.code).toBe(0);
    expect(dryRun.outputs.status).toBe("DryRun");
    expect(dryRun.summary).toContain("dry run of restoring");
    expect(dryRun.summary).toContain("- site/wwwroot/index.html");
    expect(dryRun.summary).toMatch(/#### Would delete \(\d+\)\n\n(- .*\n)*- site\/wwwroot\/old\.html/);
    expect(await tree(staging)).toEqual({ "site/wwwroot/old.html": "staging's own page" });

    const restore = await runAction({ workspace, inputs: restoreInputs });
    expect(restore.errors).toEqual([]);
    expect(restore.code).toBe(0);
    expect(restore.outputs.status).toBe("Succeeded");
    expect(await tree(staging)).toEqual(await tree(home));
  });

  it("fails verify with the differences when the zip does not match its manifest", async () => {
    const { workspace } = await makeWorkspace();
    const app = { "app-name": "shop", home: "home", storage: "file:./backups" };
    expect((await runAction({ workspace, inputs: { ...app, "backup-name": "shop_a" } })).code).toBe(0);
    await writeFile(path.join(workspace, "home/site/wwwroot/index.html"), "different content, different zip");
    expect((await runAction({ workspace, inputs: { ...app, "backup-name": "shop_b" } })).code).toBe(0);
    // The zip of one backup under the manifest of another.
    await writeFile(path.join(workspace, "backups/shop_a.zip"), await readFile(path.join(workspace, "backups/shop_b.zip")));

    const verify = await runAction({ workspace, inputs: { ...app, operation: "verify", "backup-name": "shop_a" } });
    expect(verify.code).toBe(4);
    expect(verify.outputs["exit-code"]).toBe("4");
    expect(verify.outputs.status).toBe("Mismatch");
    expect(verify.errors).toHaveLength(1);
    expect(verify.errors[0]).toMatch(/^Backup shop_a does not match its manifest: \d+ difference\(s\) \(.*fs\/site\/wwwroot\/index\.html: .*\); it should not be restored\.$/);
    expect(verify.summary).toMatch(/#### Differences from the manifest/);
  });

  it("says what is missing when restore has no backup-name, and when the backup does not exist", async () => {
    const { workspace } = await makeWorkspace();
    const app = { "app-name": "shop", home: "home", storage: "file:./backups", operation: "restore" };
    const unnamed = await runAction({ workspace, inputs: app });
    expect(unnamed.code).toBe(2);
    expect(unnamed.errors).toEqual(["Input backup-name is required for restore.\nSet it to the backup's name (see operation list) or to latest."]);

    const missing = await runAction({ workspace, inputs: { ...app, "backup-name": "shop_nope" } });
    expect(missing.code).toBe(12);
    expect(missing.outputs["exit-code"]).toBe("12");
    expect(missing.errors[0]).toContain(`No backup named shop_nope in ${path.join(workspace, "backups")}.`);
    // The hint names the operation to run, not a CLI command with a placeholder.
    expect(missing.errors[0]).toContain("Run `operation: list` to see the backups");
    expect(missing.errors[0]).not.toContain("--config FILE");

    const misplaced = await runAction({ workspace, inputs: { "app-name": "shop", home: "home", storage: "file:./backups", "read-data": "true" } });
    expect(misplaced.code).toBe(2);
    expect(misplaced.errors[0]).toBe("Input read-data applies to verify, not to backup.\nRemove read-data from this step, or set operation to verify.");
  });
});
