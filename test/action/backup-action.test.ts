import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devAccount, startAzurite, type Azurite } from "../support/azurite.js";
import { makeWorkspace, removeTemporaryFolders, shareWithNobody, zipEntries } from "../support/action-workspace.js";
import { blobNamesIn, blobText } from "../support/azurite-blobs.js";
import { freePort } from "../support/ports.js";
import { runAction, type ActionRun } from "../support/run-action.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await removeTemporaryFolders();
  await azurite?.stop();
});

/** Everything a run wrote that someone could read: the visible log, stderr and every runner file. */
function everythingVisible(run: ActionRun): string {
  return [run.visibleLog, run.stderr, run.files].join("\n");
}

describe("operation backup", () => {
  it("backs up to a container SAS URL given inline: outputs, job summary and the manifest's origin, with the SAS masked", async () => {
    const { workspace } = await makeWorkspace();
    await writeFile(path.join(workspace, "settings.json"), JSON.stringify([{ name: "WEBSITE_TIME_ZONE", value: "UTC", slotSetting: false }]));
    const sasUrl = await azurite.containerWithSas("deploys");
    const signature = new URL(sasUrl).searchParams.get("sig")!;

    const run = await runAction({
      workspace,
      inputs: { "app-name": "shop", home: "home", storage: sasUrl, "settings-file": "settings.json", filter: "\\site\\wwwroot\\cache" },
    });

    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const name = run.outputs["backup-name"]!;
    expect(name).toMatch(/^shop_\d{14}$/);
    expect(run.outputs.status).toBe("Succeeded");
    expect(run.outputs.files).toBe("2");
    const container = `http://127.0.0.1:${azurite.port}/${devAccount.name}/deploys`;
    expect(run.outputs["zip-url"]).toBe(`${container}/${name}.zip`);
    expect(run.outputs["manifest-url"]).toBe(`${container}/${name}.xml`);
    expect(run.outputs["log-url"]).toBe(`${container}/${name}.log`);
    const zipProperties = await azurite.service.getContainerClient("deploys").getBlobClient(`${name}.zip`).getProperties();
    expect(Number(run.outputs["size-bytes"])).toBe(zipProperties.contentLength);
    expect(Number(run.outputs["duration-ms"])).toBeGreaterThanOrEqual(0);
    expect(await blobNamesIn(azurite, "deploys")).toEqual([`${name}.log`, `${name}.xml`, `${name}.zip`]);

    expect(run.summary).toContain(`backup ${name} Succeeded`);
    expect(run.summary).toMatch(/\| Files \| 2 \|/);
    expect(run.summary).toMatch(/\| Size \| [\d.]+ (B|KB) zip, [\d.]+ (B|KB) uncompressed \|/);
    expect(run.summary).toContain(`| Zip | ${container}/${name}.zip |`);

    const manifest = await blobText(azurite, "deploys", `${name}.xml`);
    const origin = Object.fromEntries([...manifest.matchAll(/<Item key="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    expect(origin).toEqual({
      source: "github-actions",
      repository: "contoso/shop",
      sha: "3f786850e387550fdab836ed7e6dc881de23001b",
      ref: "refs/heads/main",
      workflow: "Deploy",
      event: "push",
      runId: "1234567890",
      runAttempt: "1",
      runUrl: "https://github.com/contoso/shop/actions/runs/1234567890",
      actor: "octocat",
    });
    expect(manifest).toContain("<Line>\\site\\wwwroot\\cache</Line>");

    expect(run.masked).toContain(signature);
    expect(everythingVisible(run)).not.toContain(signature);
    expect(manifest).not.toContain(signature);
  });

  it("backs up with a config file, reading secrets from the step's env", async () => {
    const { workspace } = await makeWorkspace();
    await azurite.service.getContainerClient("configured").createIfNotExists();
    await writeFile(
      path.join(workspace, "app-backup.yml"),
      'name: shop\nhome: ./home\nbackup:\n  storage:\n    connectionString: "${env:STORAGE_CONNECTION_STRING}"\n    container: configured\n',
    );
    const run = await runAction({
      workspace,
      inputs: { config: "app-backup.yml", "backup-name": "shop_before-deploy-42" },
      env: { STORAGE_CONNECTION_STRING: azurite.connectionString },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs["backup-name"]).toBe("shop_before-deploy-42");
    expect(run.outputs.files).toBe("3");
    expect(await blobNamesIn(azurite, "configured")).toEqual(["shop_before-deploy-42.log", "shop_before-deploy-42.xml", "shop_before-deploy-42.zip"]);
    expect(run.masked).toContain(devAccount.key);
    expect(everythingVisible(run)).not.toContain(devAccount.key);
  });

  it("fails a PartiallySucceeded backup unless fail-on-partial is false, naming the unreadable file", async () => {
    const { workspace, home } = await makeWorkspace();
    const locked = path.join(home, "site/wwwroot/locked.txt");
    await writeFile(locked, "only root");
    await shareWithNobody(workspace);
    await chmod(locked, 0o000);

    const strict = await runAction({ workspace, asUser: "nobody", inputs: { "app-name": "shop", home: "home", storage: "file:./backups" } });
    expect(strict.code).toBe(3);
    expect(strict.outputs["exit-code"]).toBe("3");
    expect(strict.outputs.status).toBe("PartiallySucceeded");
    expect(strict.errors).toHaveLength(1);
    expect(strict.errors[0]).toMatch(/is PartiallySucceeded: 1 file\(s\) could not be read .*fs\/site\/wwwroot\/locked\.txt.*fail-on-partial: false/);
    expect(strict.summary).toContain("Not in the backup (1 unreadable)");
    expect(strict.summary).toMatch(/- fs\/site\/wwwroot\/locked\.txt: .*permission denied/);
    expect(strict.warnings.some((w) => w.includes("locked.txt"))).toBe(true);

    const lenient = await runAction({
      workspace,
      asUser: "nobody",
      // Two backups within one second would share the automatic name.
      inputs: { "app-name": "shop", home: "home", storage: "file:./backups", "fail-on-partial": "false", "backup-name": "shop_lenient" },
    });
    expect(lenient.errors).toEqual([]);
    expect(lenient.code).toBe(0);
    expect(lenient.outputs["exit-code"]).toBe("0");
    expect(lenient.outputs.status).toBe("PartiallySucceeded");
    const zip = path.join(workspace, "backups", `${lenient.outputs["backup-name"]}.zip`);
    expect(Object.keys(zipEntries(zip))).not.toContain("fs/site/wwwroot/locked.txt");
  });
});

describe("bad input: an ::error:: annotation that says what to do, the CLI's exit code, nothing written", () => {
  it("no storage", async () => {
    const { workspace } = await makeWorkspace();
    const run = await runAction({ workspace, inputs: { "app-name": "shop", home: "home" } });
    expect(run.code).toBe(2);
    expect(run.errors).toEqual([
      "Input storage is required for backup when config is not set.\nEither set config to the path of an app-backup.yml, or describe the app with inputs app-name, home and storage.",
    ]);
    expect(run.summary).toContain("app-backup: backup failed");
    expect(run.outputs).toEqual({ "exit-code": "2" });
  });

  it("a SAS signed with the wrong key", async () => {
    const { workspace } = await makeWorkspace();
    const sasUrl = await azurite.containerWithSas("wrongkey", { key: Buffer.from("not the account key").toString("base64") });
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    const run = await runAction({ workspace, inputs: { "app-name": "shop", home: "home", storage: sasUrl } });
    expect(run.code).toBe(11);
    expect(run.outputs["exit-code"]).toBe("11");
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^Azure Storage refused to list the container at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/wrongkey \(HTTP 403/);
    expect(run.errors[0]).toContain("Check the SAS token");
    expect(everythingVisible(run)).not.toContain(signature);
    expect(await blobNamesIn(azurite, "wrongkey")).toEqual([]);
  });

  it("storage that cannot be reached: the step exits 10, as the CLI would, and says so in exit-code", async () => {
    const { workspace } = await makeWorkspace();
    const port = await freePort();
    const storage = `http://127.0.0.1:${port}/devstoreaccount1/c?sv=2024-01-01&sp=racwdl&sig=U0VDUkVU`;
    const run = await runAction({ workspace, inputs: { "app-name": "shop", home: "home", storage } });
    expect(run.code).toBe(10);
    expect(run.outputs["exit-code"]).toBe("10");
    expect(run.errors).toEqual([expect.stringMatching(/^Could not list the container: Azure Storage at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/c cannot be reached: the connection was refused/)]);
    expect(everythingVisible(run)).not.toContain("U0VDUkVU");
  });

  it("a storage value that is neither a URL nor file:, named by its input", async () => {
    const { workspace } = await makeWorkspace();
    const run = await runAction({ workspace, inputs: { "app-name": "shop", home: "home", storage: "backups", "max-size": "lots" } });
    expect(run.code).toBe(2);
    expect(run.errors[0]).toMatch(/^The action's inputs are invalid:\n- input storage: expected a container SAS URL/);
    expect(run.errors[0]).toContain('- input max-size: expected a size such as "10GB"');
    expect(run.errors[0]).toContain("action.yml describes each input");
  });

  it("a databases line that does not parse is reported by number, without echoing it", async () => {
    const { workspace } = await makeWorkspace();
    const run = await runAction({
      workspace,
      inputs: { "app-name": "shop", home: "home", storage: "file:./backups", databases: "MainDb:PostgreSql=${env:MAIN_DB}\nShop MySql hunter2-password" },
    });
    expect(run.code).toBe(2);
    expect(run.errors[0]).toMatch(/^Line 2 of input databases is not NAME:DATABASE_TYPE=CONNECTION_STRING/);
    expect(everythingVisible(run)).not.toContain("hunter2");
    expect(await readdir(workspace)).not.toContain("backups");
  });

  it("config together with inline app inputs", async () => {
    const { workspace } = await makeWorkspace();
    const run = await runAction({ workspace, inputs: { config: "app-backup.yml", home: "home" } });
    expect(run.code).toBe(2);
    expect(run.errors[0]).toMatch(/^Inputs home cannot be combined with config/);
  });

  it("a config file that does not exist", async () => {
    const { workspace } = await makeWorkspace();
    const run = await runAction({ workspace, inputs: { config: "deploy/app-backup.yml" } });
    expect(run.code).toBe(2);
    expect(run.errors[0]).toContain(`Cannot read the configuration file ${path.join(workspace, "deploy/app-backup.yml")}: it does not exist.`);
    expect(run.errors[0]).toContain("actions/checkout");
  });

  it("an unknown operation", async () => {
    const { workspace } = await makeWorkspace();
    const run = await runAction({ workspace, inputs: { operation: "snapshot" } });
    expect(run.code).toBe(2);
    expect(run.errors[0]).toMatch(/^Input operation is "snapshot", which is not an operation of app-backup\.\nUse one of: backup, /);
  });
});

describe("the post step", () => {
  it("has nothing to remove after a step that finished", async () => {
    const { workspace } = await makeWorkspace();
    const main = await runAction({ workspace, inputs: { "app-name": "shop", home: "home", storage: "file:./backups" } });
    expect(main.code).toBe(0);
    const tempDir = main.state["temp-dir"]!;
    expect(path.dirname(tempDir)).toBe(path.join(main.dir, "runner-temp"));
    await expect(stat(tempDir)).rejects.toThrow(/ENOENT/);
    const post = await runAction({ workspace, entry: "post", inputs: {}, state: main.state });
    expect(post.code).toBe(0);
    expect(post.visibleLog).not.toContain("Removed");
    // The backup's zip, log and manifest, and the record of the manifest's listing metadata.
    expect((await readdir(path.join(workspace, "backups"))).filter((name) => !name.startsWith(".metadata-"))).toHaveLength(3);
    expect((await readdir(path.join(workspace, "backups"))).length).toBe(4);
  });

  it("removes the temp folder and the half-written upload of a step that was stopped", async () => {
    const { workspace } = await makeWorkspace();
    const backups = path.join(workspace, "backups");
    await mkdir(backups);
    const main = await runAction({ workspace, inputs: { "app-name": "shop", home: "home", storage: "file:./backups", "backup-name": "shop_done" } });
    expect(main.code).toBe(0);
    // What a stopped step leaves: its recorded temp folder with content, and a staged zip of its backup.
    const tempDir = main.state["temp-dir"]!;
    const state = { ...main.state, "partial-uploads": JSON.stringify({ container: backups, backupName: "shop_stopped" }) };
    await mkdir(tempDir, { recursive: true });
    await writeFile(path.join(tempDir, "staged.sql"), "-- dump");
    await writeFile(path.join(backups, ".partial-0123456789ab-shop_stopped.zip"), "PK");
    await writeFile(path.join(backups, ".partial-ba9876543210-other_app.zip"), "PK");

    const post = await runAction({ workspace, entry: "post", inputs: {}, state });
    expect(post.code).toBe(0);
    expect(post.visibleLog).toContain(`Removed ${tempDir}`);
    await expect(stat(tempDir)).rejects.toThrow(/ENOENT/);
    expect((await readdir(backups)).sort()).toEqual([".metadata-shop_done.xml.json", ".partial-ba9876543210-other_app.zip", "shop_done.log", "shop_done.xml", "shop_done.zip"]);
    expect(await readFile(path.join(backups, "shop_done.zip"))).toHaveLength(Number(main.outputs["size-bytes"]));
  });
});
