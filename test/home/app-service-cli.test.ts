import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { startKuduStandIn, type KuduStandIn } from "../support/kudu-stand-in.js";

/**
 * An App Service app as the home, as a user runs it: the CLI with
 * `home: { appService: SCM URL, publishingUser, publishingPassword }` against a
 * loopback stand-in of Kudu (no Azure endpoint can be reached from the tests).
 */

const password = "Pw-publish-cli-5e0c3a9d71";
let root: string;
let standIn: KuduStandIn;
let container: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "app-service-cli-"));
  const home = path.join(root, "home");
  mkdirSync(path.join(home, "site/wwwroot/images"), { recursive: true });
  mkdirSync(path.join(home, "site/wwwroot/App_Data"), { recursive: true });
  // Every App Service home has D:\home\data; a restore keeps its journal and staged zip under it.
  mkdirSync(path.join(home, "data"), { recursive: true });
  writeFileSync(path.join(home, "site/wwwroot/index.html"), "<h1>contoso</h1>\n".repeat(100));
  writeFileSync(path.join(home, "site/wwwroot/web.config"), "<configuration/>\n");
  writeFileSync(path.join(home, "site/wwwroot/images/logo.png"), randomBytes(200_000));
  writeFileSync(path.join(home, "site/wwwroot/App_Data/orders.db"), randomBytes(3 * 1024 * 1024));
  for (let index = 0; index < 120; index++) writeFileSync(path.join(home, "site/wwwroot", `page-${index}.html`), `page ${index}\n`.repeat(index));
  standIn = await startKuduStandIn({ home, credentials: { user: "$contoso", password } });
  container = path.join(root, "backups");
});

afterAll(async () => {
  await standIn?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every file of the app's site with its SHA-256, and every folder: what a user compares after a restore. */
function siteOf(folder: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(path.join(folder, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    // Where app-backup keeps a restore's journal and staged zip while it runs.
    if (relative === "data/app-backup") continue;
    if (entry.isDirectory()) {
      out[`${relative}/`] = "folder";
      Object.assign(out, siteOf(folder, relative));
    } else out[relative] = createHash("sha256").update(readFileSync(path.join(folder, relative))).digest("hex");
  }
  return out;
}

function config(name: string): string {
  const file = path.join(root, `${name}.yml`);
  writeFileSync(
    file,
    `name: ${name}\nhome:\n  appService: ${standIn.scmUrl}\n  publishingUser: $contoso\n  publishingPassword: \${env:PUBLISH_PASSWORD}\nbackup:\n  storage:\n    path: ${container}\n`,
  );
  return file;
}

const env = { PUBLISH_PASSWORD: password };

describe("an App Service app as the home, through Kudu", () => {
  it("backs up the whole home, and a restore over the changed app brings its files back; the password is never shown", async () => {
    const file = config("contoso");
    const original = siteOf(standIn.home);
    const backup = await runCli(["backup", "--config", file, "--json"], { env });
    expect(backup.stderr).not.toMatch(/warning|error/i);
    expect(backup.code).toBe(0);
    expect(backup.json).toMatchObject({ status: "Succeeded", files: 124 });

    writeFileSync(path.join(standIn.home, "site/wwwroot/index.html"), "defaced");
    rmSync(path.join(standIn.home, "site/wwwroot/images/logo.png"));
    writeFileSync(path.join(standIn.home, "site/wwwroot/shell.php"), "<?php system($_GET['c']);");

    const dryRun = await runCli(["restore", backup.json.name, "--config", file, "--dry-run", "--json"], { env });
    expect(dryRun.code).toBe(0);
    expect(dryRun.json.deleted).toContain("site/wwwroot/shell.php");

    const restore = await runCli(["restore", backup.json.name, "--config", file, "--yes", "--json"], { env });
    expect(restore.code).toBe(0);
    expect(restore.json.status).toBe("Succeeded");
    expect(siteOf(standIn.home)).toEqual(original);

    const everything = [backup, dryRun, restore].map((run) => run.stdout + run.stderr).join("\n");
    const stored = readdirSync(container).map((name) => readFileSync(path.join(container, name)).toString("latin1")).join("\n");
    expect(everything).not.toContain(password);
    expect(stored).not.toContain(password);
  });

  it("a download cut mid-backup exits 13 and leaves no restorable backup", async () => {
    const file = config("contoso-cut");
    standIn.cutZipAfter(256 * 1024);
    const backup = await runCli(["backup", "--config", file, "--json"], { env });
    expect(backup.code).toBe(13);
    const list = await runCli(["list", "--config", file, "--json"], { env });
    expect((list.json.backups ?? []).filter((b: { status: string }) => b.status !== "Failed")).toEqual([]);
  });

  it("a wrong publishing password exits 14 and does not repeat it", async () => {
    const backup = await runCli(["backup", "--config", config("contoso-refused"), "--json"], { env: { PUBLISH_PASSWORD: "Not-the-password-7731" } });
    expect(backup.code).toBe(14);
    expect(backup.stdout + backup.stderr).not.toContain("Not-the-password-7731");
  });
});
