import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { blobNamesIn } from "../support/azurite-blobs.js";
import { runCli } from "../support/cli.js";
import { compileCacheFolderName } from "../../cli/compile-cache.js";
import { treeFacts } from "../support/test-app.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

/**
 * A generated home: files in kept and excluded folders, and a `_backup.filter`
 * whose lines match a folder, a glob of files, and nothing at all.
 */
async function makeHome() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dry-run-"));
  const home = path.join(dir, "home");
  const www = path.join(home, "site/wwwroot");
  await mkdir(path.join(www, "images/2014"), { recursive: true });
  await mkdir(path.join(www, "css"), { recursive: true });
  for (let i = 0; i < 5; i++) await writeFile(path.join(www, "images/2014", `photo${i}.jpg`), Buffer.alloc(1000, i));
  await writeFile(path.join(www, "index.html"), "x".repeat(300));
  await writeFile(path.join(www, "css/site.css"), "y".repeat(200));
  await writeFile(path.join(www, "debug.tmp"), "z".repeat(50));
  await writeFile(path.join(www, "css/old.tmp"), "z".repeat(50));
  await writeFile(path.join(www, "_backup.filter"), "\\site\\wwwroot\\images\n# comments do not count\nsite/wwwroot/**/*.tmp\n\\site\\wwwroot\\no-such-folder\n");
  // Kept: index.html (300), css/site.css (200), _backup.filter itself.
  return { dir, home };
}

const filterBytes = "\\site\\wwwroot\\images\n# comments do not count\nsite/wwwroot/**/*.tmp\n\\site\\wwwroot\\no-such-folder\n".length;

describe("backup --dry-run", () => {
  it("reports files, bytes and each filter line's matches, and writes nothing: no folder, no claim, no lock, no temp file", async () => {
    const { dir, home } = await makeHome();
    const backups = path.join(dir, "backups");
    const tmp = await mkdtemp(path.join(os.tmpdir(), "dry-run-tmp-"));
    const before = treeFacts(home);
    const args = ["backup", "--app", "shop", "--home", home, "--storage", `file:${backups}`, "--dry-run"];

    const text = await runCli(args, { cwd: dir, env: { TMPDIR: tmp } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`3 files, `);
    expect(text.stdout).toContain(`${500 + filterBytes} B uncompressed`);
    expect(text.stdout).toContain("filter: 3 line(s) from");
    expect(text.stdout).toContain("\\site\\wwwroot\\images: excludes 1 path(s)");
    expect(text.stdout).toContain("site/wwwroot/**/*.tmp: excludes 2 path(s)");
    expect(text.stdout).toContain("\\site\\wwwroot\\no-such-folder: matches NOTHING in the home");
    expect(text.stdout).toContain("Nothing was written.");

    const json = await runCli([...args, "--json"], { cwd: dir, env: { TMPDIR: tmp } });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout.trim().split("\n")).toHaveLength(1);
    expect(json.json).toMatchObject({
      dryRun: true,
      app: "shop",
      home,
      storage: backups,
      files: 3,
      bytes: 500 + filterBytes,
      overLimit: false,
      filter: {
        lines: [
          { line: "\\site\\wwwroot\\images", matched: 1 },
          { line: "site/wwwroot/**/*.tmp", matched: 2 },
          { line: "\\site\\wwwroot\\no-such-folder", matched: 0 },
        ],
        unmatched: ["\\site\\wwwroot\\no-such-folder"],
      },
      unreadable: [],
      databases: [],
    });

    expect(treeFacts(home)).toEqual(before);
    expect(existsSync(backups)).toBe(false);
    // Only Node's compiled code of the CLI itself is kept there (see cli/compile-cache.ts), nothing of the backup.
    expect(readdirSync(tmp).filter((name) => name !== compileCacheFolderName())).toEqual([]);
  });

  it("names the files a backup could not read, and the databases without their passwords, without connecting", async () => {
    const { dir, home } = await makeHome();
    const locked = path.join(home, "site/wwwroot/locked.txt");
    await writeFile(locked, "only root");
    await chmod(locked, 0o000);
    await chmod(dir, 0o755);
    const password = "n0t-Shown-anywhere";
    // Port 1: nothing listens; a dry run that connected would fail.
    const run = await runCli(
      ["backup", "--app", "shop", "--home", home, "--storage", `file:${path.join(dir, "backups")}`, "--database", `MainDb=PostgreSql:postgres://shop:${password}@127.0.0.1:1/shopdb`, "--dry-run", "--json"],
      { cwd: dir, asUser: "nobody" },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.unreadable).toEqual([{ path: "site/wwwroot/locked.txt", reason: expect.stringMatching(/permission denied/) }]);
    expect(run.json.files).toBe(3);
    expect(run.json.databases).toEqual([{ connectionStringName: "MainDb", databaseType: "PostgreSql", server: expect.stringContaining("shopdb") }]);
    expect(run.stdout + run.stderr).not.toContain(password);
  });

  it("leaves an Azure container exactly as it was", async () => {
    const { dir, home } = await makeHome();
    const sasUrl = await azurite.containerWithSas("dryrun");
    const run = await runCli(["backup", "--app", "shop", "--home", home, "--storage", sasUrl, "--dry-run", "--json"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.storage).not.toContain("sig=");
    expect(await blobNamesIn(azurite, "dryrun")).toEqual([]);
  });

  it("says when the backup would be over its size limit, and refuses bad input with exit 2", async () => {
    const { dir, home } = await makeHome();
    const storage = `file:${path.join(dir, "backups")}`;
    const over = await runCli(["backup", "--app", "shop", "--home", home, "--storage", storage, "--max-size", "100", "--dry-run"], { cwd: dir });
    // The backup itself would be refused (exit 2), so its dry run says so the same way, after its report.
    expect(over.code).toBe(2);
    expect(over.stdout).toContain("over the 100 B limit");
    const missing = await runCli(["backup", "--app", "shop", "--home", path.join(dir, "nope"), "--storage", storage, "--dry-run", "--json"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.json.error.code).toBe("HOME_MISSING");
  });
});
