import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { backUp, leftovers, makeApp, treeFacts } from "../support/test-app.js";

/** Flips one byte in the middle of an entry's stored data, leaving every header intact. */
function damageEntryData(zip: string, entry: string): void {
  const script = String.raw`
import sys, zipfile, struct
path, name = sys.argv[1], sys.argv[2]
info = zipfile.ZipFile(path).getinfo(name)
data = bytearray(open(path, "rb").read())
at = info.header_offset
n, m = struct.unpack("<HH", data[at + 26: at + 30])
target = at + 30 + n + m + info.compress_size // 2
data[target] ^= 0xFF
open(path, "wb").write(bytes(data))`;
  execFileSync("python3", ["-c", script, zip, entry]);
}

describe("app-backup verify", () => {
  it("passes an intact backup, from the central directory and, with --read-data, from every entry's content", async () => {
    const app = await makeApp();
    const name = await backUp(app);
    const quick = await runCli(["verify", name, "--config", app.config, "--json"]);
    expect(quick.code).toBe(0);
    expect(quick.json).toMatchObject({ backup: name, status: "Verified", ok: true, restorable: true, readData: false, differences: [] });

    const full = await runCli(["verify", name, "--config", app.config, "--read-data", "--json"]);
    expect(full.code).toBe(0);
    // Six files, two symlinks and meta: everything but folders is read.
    expect(full.json).toMatchObject({ status: "Verified", readData: true, entriesRead: 9, differences: [] });
    const human = await runCli(["verify", name, "--config", app.config, "--read-data"]);
    expect(human.stdout).toMatch(/is intact: \d+ entries listed, 9 read .* checked against their SHA-256/);
  });

  it("finds content damaged inside the zip with --read-data (exit 4), and restore refuses it without changing the home", async () => {
    const app = await makeApp();
    const name = await backUp(app);
    damageEntryData(path.join(app.backups, `${name}.zip`), "fs/site/wwwroot/index.html");

    const quick = await runCli(["verify", name, "--config", app.config, "--json"]);
    expect(quick.code).toBe(0);
    const full = await runCli(["verify", name, "--config", app.config, "--read-data", "--json"]);
    expect(full.code).toBe(4);
    expect(full.json.status).toBe("Mismatch");
    expect(full.json.differences).toEqual([{ name: "fs/site/wwwroot/index.html", difference: expect.stringMatching(/^content: /) }]);
    const human = await runCli(["verify", name, "--config", app.config, "--read-data"]);
    expect(human.code).toBe(4);
    expect(human.stdout).toContain("does NOT match its manifest");
    expect(human.stdout).toContain("fs/site/wwwroot/index.html: content:");

    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "changed after the backup");
    const before = treeFacts(app.home);
    const restore = await runCli(["restore", name, "--config", app.config, "--json"]);
    expect(restore.code).toBe(1);
    expect(restore.json).toMatchObject({ status: "Failed", parts: { files: false }, error: { code: "BACKUP_CORRUPT" } });
    expect(restore.json.error.message).toContain("fs/site/wwwroot/index.html");
    expect(restore.json.error.message).toContain("nothing was changed");
    expect(treeFacts(app.home)).toEqual(before);
    expect(leftovers(app.home)).toEqual([]);
  });

  it("lists every difference between the manifest and the zip's central directory", async () => {
    const app = await makeApp();
    const name = await backUp(app);
    const manifestPath = path.join(app.backups, `${name}.xml`);
    let manifest = await readFile(manifestPath, "utf8");
    manifest = manifest.replace(/(name="fs\/site\/wwwroot\/css\/site\.css" kind="file" size=")(\d+)"/, (_, head: string, size: string) => `${head}${Number(size) + 1}"`);
    manifest = manifest.replace(/(name="fs\/site\/wwwroot\/photo\.jpg"[^>]*crc32=")[0-9a-f]{8}"/, "$100000000\"");
    await writeFile(manifestPath, manifest);
    execFileSync("zip", ["-qd", path.join(app.backups, `${name}.zip`), "fs/data/run.sh"]);

    const run = await runCli(["verify", name, "--config", app.config, "--json"]);
    expect(run.code).toBe(4);
    const differences: Array<{ name: string; difference: string }> = run.json.differences;
    expect(differences).toContainEqual({ name: "fs/site/wwwroot/css/site.css", difference: expect.stringMatching(/^size 21 in the zip, 22 in the manifest/) });
    expect(differences).toContainEqual({ name: "fs/site/wwwroot/photo.jpg", difference: expect.stringMatching(/^CRC-32 [0-9a-f]{8} in the zip, 00000000 in the manifest/) });
    expect(differences).toContainEqual({ name: "fs/data/run.sh", difference: "in the manifest but not in the zip" });
    expect(differences).toContainEqual({ name: "(zip)", difference: expect.stringMatching(/^the zip is \d+ bytes, the manifest says \d+/) });

    const before = treeFacts(app.home);
    const restore = await runCli(["restore", name, "--config", app.config]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain("does not match its manifest; nothing was changed");
    expect(treeFacts(app.home)).toEqual(before);
  });

  it("reports a Failed backup as not restorable, and restore refuses it", async () => {
    const app = await makeApp({
      extra: "  databases:\n    - { connectionStringName: MainDb, databaseType: PostgreSql }\n",
    });
    await writeFile(
      app.config,
      (await readFile(app.config, "utf8")).replace("backup:", 'connectionStrings:\n  MainDb: { type: PostgreSQL, value: "Host=127.0.0.1;Port=9;Database=x;Username=u;Password=p" }\nbackup:'),
    );
    const backup = await runCli(["backup", "--config", app.config, "--name", "shop_broken", "--json"]);
    expect(backup.code).toBe(1);
    expect(backup.json.status).toBe("Failed");

    const verify = await runCli(["verify", "shop_broken", "--config", app.config, "--json"]);
    expect(verify.code).toBe(1);
    expect(verify.json).toMatchObject({ status: "NotRestorable", backupStatus: "Failed", restorable: false });
    expect(verify.json.error).toContain("It cannot be restored");

    const before = treeFacts(app.home);
    const restore = await runCli(["restore", "shop_broken", "--config", app.config, "--json"]);
    expect(restore.code).toBe(2);
    expect(restore.json).toMatchObject({ status: "Error", error: { code: "BACKUP_NOT_RESTORABLE" } });
    expect(restore.stderr).toContain("Backup shop_broken is Failed");
    expect(treeFacts(app.home)).toEqual(before);
  });
});
