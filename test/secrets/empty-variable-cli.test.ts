import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), "empty-variable-"));
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("a home given by a variable that is empty (an unset GitHub secret)", () => {
  it("restore --to stops with a configuration error and leaves the target configuration's folder alone", async () => {
    const source = path.join(workDir, "source");
    await mkdir(path.join(source, "home"), { recursive: true });
    await writeFile(path.join(source, "home/index.html"), "<h1>shop</h1>");
    await writeFile(path.join(source, "app-backup.yml"), "name: shop\nhome: ./home\nbackup: { storage: file:../backups }\n");
    const backup = await runCli(["backup", "--config", path.join(source, "app-backup.yml"), "--json"]);
    expect(backup.code, backup.stderr).toBe(0);

    const target = path.join(workDir, "target");
    await mkdir(target);
    const targetConfig = "name: shop\nhome: ${env:APP_HOME}\nbackup: { storage: file:../backups }\n";
    await writeFile(path.join(target, "app.yml"), targetConfig);
    await writeFile(path.join(target, "notes.txt"), "kept");

    for (const empty of ["", " "]) {
      const restore = await runCli(["restore", "latest", "--config", path.join(source, "app-backup.yml"), "--to", path.join(target, "app.yml"), "--json"], {
        env: { APP_HOME: empty },
      });
      expect(restore.code).not.toBe(0);
      expect(restore.stderr).toContain("home: refers to the environment variable APP_HOME, which is empty");
      expect(restore.json).toMatchObject({ status: "Error", error: { code: "CONFIG_INVALID" } });
      expect((await readdir(target)).sort()).toEqual(["app.yml", "notes.txt"]);
      expect(await readFile(path.join(target, "app.yml"), "utf8")).toBe(targetConfig);
    }
  });
});
