import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeApp } from "../support/test-app.js";

/** The backups folder's objects, none when it was never made. */
const objectsIn = (folder: string) => readdir(folder).catch(() => [] as string[]);

describe("APP_BACKUP_DEFLATE, from the real CLI", () => {
  it("backs up with libdeflate by default (the build made its binding), with zlib when asked, and says which in the log; both verify and restore the same way", async () => {
    for (const [env, engine] of [[{}, /Compression: deflate level 4, by libdeflate \d+\.\d+ /], [{ APP_BACKUP_DEFLATE: "zlib" }, /Compression: deflate level 4, by zlib \S+ \(Node\.js\)\./]] as const) {
      const app = await makeApp();
      const backup = await runCli(["backup", "--config", app.config, "--json"], { env });
      expect(backup.code).toBe(0);
      const log = await readFile(path.join(app.backups, `${backup.json.name}.log`), "utf8");
      expect(log).toMatch(engine);
      const verify = await runCli(["verify", backup.json.name, "--config", app.config, "--read-data", "--json"], { env });
      expect(verify.code).toBe(0);
      const index = path.join(app.home, "site/wwwroot/index.html");
      await writeFile(index, "changed after the backup");
      const restore = await runCli(["restore", backup.json.name, "--config", app.config, "--yes", "--json"], { env });
      expect(restore.code).toBe(0);
      expect(await readFile(index, "utf8")).toBe("<h1>hello</h1>\n".repeat(200));
    }
  });

  it("refuses an unknown value before a backup or a restore does anything, naming it and the values it takes", async () => {
    const app = await makeApp();
    const run = await runCli(["backup", "--config", app.config], { env: { APP_BACKUP_DEFLATE: "zstd" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('APP_BACKUP_DEFLATE is "zstd"');
    expect(run.stderr).toMatch(/zlib, libdeflate or auto/);
    expect(await objectsIn(app.backups)).toEqual([]);
    const restore = await runCli(["restore", "latest", "--config", app.config, "--yes"], { env: { APP_BACKUP_DEFLATE: "zstd" } });
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('APP_BACKUP_DEFLATE is "zstd"');
  });
});
