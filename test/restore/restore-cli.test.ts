import { chmod, chown, mkdir, readFile, rename, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { lstatSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { runCli } from "../support/cli.js";
import { backUp, leftovers, makeApp, treeFacts } from "../support/test-app.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

/** Changes a user would make after the backup, of every kind a restore must undo. */
async function mutate(home: string) {
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>defaced</h1>");
  await writeFile(path.join(home, "site/wwwroot/stale.txt"), "added later");
  await mkdir(path.join(home, "site/wwwroot/new-folder/deep"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/new-folder/deep/x.js"), "x");
  await rm(path.join(home, "site/wwwroot/css"), { recursive: true });
  await rm(path.join(home, "site/wwwroot/empty"), { recursive: true });
  await chmod(path.join(home, "data/run.sh"), 0o600);
  await unlink(path.join(home, "site/etc-link"));
  await writeFile(path.join(home, "site/etc-link"), "now a file");
}

describe("app-backup restore", () => {
  it("puts the home back exactly as backed up: content, empty folders, modes, times, links; and deletes the rest", async () => {
    const app = await makeApp();
    const original = treeFacts(app.home);
    const name = await backUp(app);
    await mutate(app.home);
    expect(treeFacts(app.home)).not.toEqual(original);

    const run = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(run.stderr).not.toMatch(/error|warning/i);
    expect(run.code).toBe(0);
    expect(treeFacts(app.home)).toEqual(original);
    expect(leftovers(app.home)).toEqual([]);
    expect(run.json).toMatchObject({
      backup: name,
      status: "Succeeded",
      home: app.home,
      keptByFilter: [],
      databases: [],
      files: 6,
      parts: { files: true, databases: [], settings: false, connectionStrings: false },
    });
    expect(run.json.written).toContain("site/wwwroot/empty/");
    expect(run.json.written).toContain("site/wwwroot/index.html");
    expect(run.json.deleted).toEqual(["site/wwwroot/new-folder/", "site/wwwroot/new-folder/deep/", "site/wwwroot/new-folder/deep/x.js", "site/wwwroot/stale.txt"]);
  });

  it("with --dry-run lists what would be written, deleted and kept, and changes nothing", async () => {
    const app = await makeApp({ filter: "\\site\\wwwroot\\cache\n" });
    const name = await backUp(app);
    await mutate(app.home);
    await writeFile(path.join(app.home, "site/wwwroot/cache/fresh.html"), "made after the backup");
    const before = treeFacts(app.home);

    const run = await runCli(["restore", name, "--config", app.config, "--dry-run", "--json"]);
    expect(run.code).toBe(0);
    expect(run.json.status).toBe("DryRun");
    expect(run.json.keptByFilter).toEqual(["site/wwwroot/cache"]);
    expect(run.json.deleted).toContain("site/wwwroot/stale.txt");
    expect(run.json.deleted).not.toContain("site/wwwroot/cache/fresh.html");
    expect(run.json.written).toContain("site/wwwroot/css/site.css");
    expect(run.json.parts.files).toBe(false);
    expect(treeFacts(app.home)).toEqual(before);
    expect(leftovers(app.home)).toEqual([]);

    const human = await runCli(["restore", name, "--config", app.config, "--dry-run"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("+ site/wwwroot/css/site.css");
    expect(human.stdout).toContain("- site/wwwroot/stale.txt");
    expect(human.stdout).toContain("= site/wwwroot/cache (matches the backup's filter)");
    expect(treeFacts(app.home)).toEqual(before);
  });

  it("restores a partial backup around the paths its filter lines match, which are neither deleted nor overwritten", async () => {
    const app = await makeApp({ filter: "# not backed up\n\\site\\wwwroot\\cache\ndata/*.sh\n" });
    const original = treeFacts(app.home);
    const name = await backUp(app);
    await mutate(app.home);
    await writeFile(path.join(app.home, "site/wwwroot/cache/page.html"), "newer cache");
    await writeFile(path.join(app.home, "site/wwwroot/cache/other.html"), "more cache");
    const keptBefore = Object.fromEntries(Object.entries(treeFacts(app.home)).filter(([p]) => p.startsWith("site/wwwroot/cache/") || p === "data/run.sh"));

    const run = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(run.code).toBe(0);
    expect(run.json.keptByFilter).toEqual(["data/run.sh", "site/wwwroot/cache"]);
    const after = treeFacts(app.home);
    expect(Object.fromEntries(Object.entries(after).filter(([p]) => p.startsWith("site/wwwroot/cache/") || p === "data/run.sh"))).toEqual(keptBefore);
    expect(await readFile(path.join(app.home, "site/wwwroot/cache/page.html"), "utf8")).toBe("newer cache");
    // Everything else is as backed up, and what was added elsewhere is gone.
    for (const [p, fact] of Object.entries(original)) {
      if (p.startsWith("site/wwwroot/cache/") || p === "data/run.sh") continue;
      expect(after[p], p).toBe(fact);
    }
    expect(after["site/wwwroot/stale.txt"]).toBeUndefined();
    expect(leftovers(app.home)).toEqual([]);
  });

  it("writes into fresh folders: a symlink in the target where the backup has a folder is replaced, never followed", async () => {
    const app = await makeApp();
    const original = treeFacts(app.home);
    const name = await backUp(app);
    const outside = path.join(app.dir, "outside");
    await mkdir(outside);
    await rename(path.join(app.home, "site/wwwroot/css"), path.join(outside, "css"));
    await symlink(path.join(outside, "css"), path.join(app.home, "site/wwwroot/css"));
    await writeFile(path.join(outside, "css/site.css"), "outside content");
    const outsideBefore = treeFacts(outside);

    const run = await runCli(["restore", name, "--config", app.config]);
    expect(run.code).toBe(0);
    expect(treeFacts(app.home)).toEqual(original);
    expect(lstatSync(path.join(app.home, "site/wwwroot/css")).isDirectory()).toBe(true);
    expect(treeFacts(outside)).toEqual(outsideBefore);
  });

  it("restores from Azure Blob Storage, into a home that does not exist yet, without printing the SAS", async () => {
    const sasUrl = await azurite.containerWithSas("restorecontainer");
    const app = await makeApp({ storage: sasUrl });
    const original = treeFacts(app.home);
    // Stamped, as `latest` chooses among stamped names only.
    const { json: made } = await runCli(["backup", "--config", app.config, "--json"]);
    const name: string = made.name;
    await rm(app.home, { recursive: true });

    const run = await runCli(["restore", "latest", "--config", app.config, "--json"]);
    expect(run.code).toBe(0);
    expect(run.json.backup).toBe(name);
    expect(treeFacts(app.home)).toEqual(original);
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    expect(run.stdout + run.stderr).not.toContain(signature);
  });

  it("restores a zip and manifest downloaded by hand with --from (the .zip, the .xml or their stem)", async () => {
    const app = await makeApp();
    const original = treeFacts(app.home);
    const name = await backUp(app, "shop_20240101020304");
    const downloads = path.join(app.dir, "downloads");
    await mkdir(downloads);
    for (const ext of ["zip", "xml"]) await rename(path.join(app.backups, `${name}.${ext}`), path.join(downloads, `${name}.${ext}`));

    for (const from of [`${name}.zip`, `${name}.xml`, name]) {
      await mutate(app.home);
      const run = await runCli(["restore", "--config", app.config, "--from", path.join(downloads, from), "--json"]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.json.backup).toBe(name);
      expect(treeFacts(app.home)).toEqual(original);
    }
    await rm(path.join(downloads, `${name}.xml`));
    const missing = await runCli(["restore", "--config", app.config, "--from", path.join(downloads, `${name}.zip`)]);
    expect(missing.code).toBe(12);
    expect(missing.stderr).toContain(`${path.join(downloads, name)}.xml does not exist`);
  });

  it("restores into another app with --to, writing settings and connection strings into its config only on request, keeping its comments", async () => {
    const source = await makeApp({
      settings: "  FEATURE_FLAG: \"on\"\n",
      extra: "",
    });
    await writeFile(
      source.config,
      (await readFile(source.config, "utf8")).replace(
        "backup:",
        'connectionStrings:\n  Redis: { type: RedisCache, value: "${env:REDIS_URL}" }\nbackup:',
      ),
    );
    const original = treeFacts(source.home);
    const name = await backUp(source, "b1", { REDIS_URL: "redis://cache:6379" });

    const target = await makeApp({ name: "shop-staging" });
    await writeFile(path.join(target.home, "site/wwwroot/only-in-target.txt"), "x");
    const targetConfigBefore = await readFile(target.config, "utf8");

    const plain = await runCli(["restore", name, "--config", source.config, "--to", target.config, "--json"], { env: { REDIS_URL: "redis://cache:6379" } });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.json).toMatchObject({ app: "shop-staging", home: target.home, settingsRestored: [], connectionStringsRestored: [] });
    expect(treeFacts(target.home)).toEqual(original);
    expect(await readFile(target.config, "utf8")).toBe(targetConfigBefore);

    const withConfig = await runCli(["restore", name, "--config", source.config, "--to", target.config, "--restore-settings", "--adjust-connection-strings", "--json"], {
      env: { REDIS_URL: "redis://cache:6379" },
    });
    expect(withConfig.code, withConfig.stderr).toBe(0);
    expect(withConfig.json).toMatchObject({
      settingsRestored: ["WEBSITE_TIME_ZONE", "FEATURE_FLAG"],
      connectionStringsRestored: ["Redis"],
      parts: { files: true, settings: true, connectionStrings: true },
    });
    expect(withConfig.stdout + withConfig.stderr).not.toContain("redis://cache");
    const updated = await readFile(target.config, "utf8");
    expect(updated).toContain("# the shop's backup configuration");
    expect(updated).toContain("WEBSITE_TIME_ZONE: UTC # keep in UTC");
    expect(updated).toMatch(/FEATURE_FLAG: "?on"?/);
    expect(updated).toMatch(/Redis:[\s\S]*type: RedisCache[\s\S]*value: \$\{env:REDIS_URL\}/);
    expect(updated).toContain("name: shop-staging");
    // The source app's configuration is never touched.
    expect(await readFile(source.config, "utf8")).not.toContain("shop-staging");
  });

  it("gives restored paths the home's owner when run as root", async () => {
    const app = await makeApp();
    const name = await backUp(app);
    const nobody = 65534;
    await chown(app.home, nobody, nobody);
    const run = await runCli(["restore", name, "--config", app.config]);
    expect(run.code).toBe(0);
    for (const p of ["site/wwwroot/index.html", "site/wwwroot/empty", "site/etc-link", "data/readonly.txt"]) {
      expect(lstatSync(path.join(app.home, p)).uid, p).toBe(nobody);
    }
    expect((await stat(app.home)).uid).toBe(nobody);
  });

  it("refuses a backup name that does not exist, and a missing backup argument, before touching anything", async () => {
    const app = await makeApp();
    await backUp(app);
    const before = treeFacts(app.home);
    const missing = await runCli(["restore", "nope", "--config", app.config, "--json"]);
    expect(missing.code).toBe(12);
    expect(missing.json).toMatchObject({ status: "Error", error: { code: "BACKUP_NOT_FOUND" } });
    expect(missing.stderr).toContain("No backup named nope");
    const none = await runCli(["restore", "--config", app.config]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Name the backup to restore, or pass --from");
    expect(treeFacts(app.home)).toEqual(before);
  });
});

describe("app-backup show", () => {
  it("prints the manifest in readable form, and as JSON", async () => {
    const app = await makeApp({ filter: "\\site\\wwwroot\\cache\n" });
    const name = await backUp(app);
    const human = await runCli(["show", name, "--config", app.config]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Backup ${name}`);
    expect(human.stdout).toMatch(/status:\s+Succeeded/);
    expect(human.stdout).toMatch(/content:\s+6 files, 5 folders, 2 symlinks/);
    expect(human.stdout).toContain("partial backup, 1 line(s)");
    expect(human.stdout).toContain("\\site\\wwwroot\\cache");
    expect(human.stdout).toMatch(/databases:\s+none/);

    const json = await runCli(["show", name, "--config", app.config, "--json"]);
    expect(json.code).toBe(0);
    expect(json.json).toMatchObject({
      name,
      app: "shop",
      status: "Succeeded",
      restorable: true,
      files: 6,
      entries: { files: 6, folders: 5, symlinks: 2 },
      filter: { lines: ["\\site\\wwwroot\\cache"] },
      databases: [],
      skipped: [],
    });
  });
});
