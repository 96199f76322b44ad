import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { runCli } from "../support/cli.js";
import { freshDatabase, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";

let azurite: Azurite;
let postgres: PostgresTestServer;

beforeAll(async () => {
  [azurite, postgres] = await Promise.all([startAzurite(), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), postgres?.stop()]);
});

/** A home with a few files, and a folder beside it for backups and configuration files. */
async function makeHome() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flag-only-"));
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot/css"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n");
  await writeFile(path.join(home, "site/wwwroot/css/site.css"), "body { color: #333 }\n");
  return { dir, home };
}

/** An app-backup.yml describing the same app as the flags. */
async function equivalentConfig(dir: string, storage: string): Promise<string> {
  const config = path.join(dir, "app-backup.yml");
  await writeFile(config, `name: shop\nhome: ./home\nbackup:\n  storage: ${JSON.stringify(storage)}\n`);
  return config;
}

const listed = async (args: string[]) => {
  const run = await runCli(["list", ...args, "--json"]);
  expect(run.code, run.stderr).toBe(0);
  return (run.json as Array<{ name: string }>).map((b) => b.name);
};

describe("backup described by flags, without a configuration file", () => {
  it("backs up into a local folder that the equivalent app-backup.yml lists", async () => {
    const { dir, home } = await makeHome();
    const storage = `file:${path.join(dir, "backups")}`;
    // No app-backup.yml in the working directory: the flags alone describe the app.
    const run = await runCli(["backup", "--app", "shop", "--home", home, "--storage", storage, "--json"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ app: "shop", status: "Succeeded", files: 2 });
    // One result on stdout; progress, as JSON lines, on stderr, never past its total.
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const progress = run.stderr.trim().split("\n").map((line) => JSON.parse(line));
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p.type).toBe("progress");
      expect(p.bytes).toBeLessThanOrEqual(p.totalBytes);
    }
    expect(progress.at(-1)).toMatchObject({ files: 2, totalFiles: 2 });
    expect(await listed(["--config", await equivalentConfig(dir, storage)])).toEqual([run.json.name]);
    expect(await listed(["--app", "shop", "--storage", storage])).toEqual([run.json.name]);

    // verify and restore find the backup by the same flags.
    const verify = await runCli(["verify", "latest", "--app", "shop", "--storage", storage, "--json"], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json.ok).toBe(true);
    await writeFile(path.join(home, "site/wwwroot/index.html"), "changed after the backup");
    const restore = await runCli(["restore", "latest", "--app", "shop", "--home", home, "--storage", storage, "--json"], { cwd: dir });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await readFile(path.join(home, "site/wwwroot/index.html"), "utf8")).toBe("<h1>shop</h1>\n");
  });

  it("backs up into Azurite by a container SAS URL and by a connection string with --container, never printing the secrets", async () => {
    const { dir, home } = await makeHome();
    const sasUrl = await azurite.containerWithSas("flagonly");
    const sig = new URL(sasUrl).searchParams.get("sig")!;
    const bySas = await runCli(["backup", "--app", "shop", "--home", home, "--storage", sasUrl, "--json"], { cwd: dir });
    expect(bySas.code, bySas.stderr).toBe(0);
    const byKey = await runCli(
      ["backup", "--app", "shop", "--home", home, "--storage", azurite.connectionString, "--container", "flagonly", "--name", "shop_flags", "--json"],
      { cwd: dir },
    );
    expect(byKey.code, byKey.stderr).toBe(0);
    for (const run of [bySas, byKey]) {
      expect(run.stdout + run.stderr).not.toContain(sig);
      expect(run.stdout + run.stderr).not.toContain("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq");
    }
    expect((await listed(["--config", await equivalentConfig(dir, sasUrl)])).sort()).toEqual([bySas.json.name, "shop_flags"].sort());
  });

  it("dumps a PostgreSQL database given by --database NAME=TYPE:CONNSTRING, and never shows its password", async () => {
    const database = await freshDatabase(postgres, "flags");
    await sql(postgres, database, "CREATE TABLE orders (id serial PRIMARY KEY, note text); INSERT INTO orders (note) VALUES ('first'), ('second');");
    const { dir, home } = await makeHome();
    const storage = `file:${path.join(dir, "backups")}`;
    const connectionString = postgres.connectionString(database);
    const run = await runCli(["backup", "--app", "shop", "--home", home, "--storage", storage, "--database", `MainDb=PostgreSql:${connectionString}`, "--json"], {
      cwd: dir,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.databases).toMatchObject([{ connectionStringName: "MainDb", engine: "postgresql" }]);
    expect(run.stdout + run.stderr).not.toContain(postgres.password);

    const dryRun = await runCli(["backup", "--app", "shop", "--home", home, "--storage", storage, "--database", `MainDb=PostgreSql:${connectionString}`, "--dry-run"], {
      cwd: dir,
    });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain("MainDb (PostgreSql)");
    expect(dryRun.stdout).toContain(database);
    expect(dryRun.stdout + dryRun.stderr).not.toContain(postgres.password);

    // A server that refuses the connection: the error names the database, not the password.
    const refused = await runCli(
      ["backup", "--app", "shop", "--home", home, "--storage", storage, "--database", `MainDb=PostgreSql:postgres://someone:${postgres.password}@127.0.0.1:1/${database}`, "--json"],
      { cwd: dir },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("MainDb");
    expect(refused.stdout + refused.stderr).not.toContain(postgres.password);
  });
});

describe("flags that are wrong", () => {
  const secret = "s3cret-Passw0rd";

  it.each([
    ["--config combined with app flags", ["--config", "app-backup.yml", "--app", "shop", "--storage", "file:./b"], "--config cannot be combined with --app, --storage"],
    ["a missing --storage", ["--app", "shop", "--home", "."], "--storage is required for backup"],
    ["a missing --app and --home", ["--storage", "file:./b"], "--app, --home are required for backup"],
    ["an app name Azure would refuse", ["--app", "shop_1", "--home", ".", "--storage", "file:./b"], "- --app: expected letters, digits and hyphens"],
    ["a size that is not one", ["--app", "shop", "--home", ".", "--storage", "file:./b", "--max-size", "lots"], "- --max-size: expected a size"],
    ["a storage of no known form", ["--app", "shop", "--home", ".", "--storage", "ftp://host/x"], "- --storage: expected a container SAS URL"],
    ["a connection string without --container", ["--app", "shop", "--home", ".", "--storage", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + secret], "--storage is an Azure Storage connection string, and --container is not set."],
    ["--container with a local folder", ["--app", "shop", "--home", ".", "--storage", "file:./b", "--container", "c"], "--container is set, but --storage is a local folder"],
    ["a database line of no form", ["--app", "shop", "--home", ".", "--storage", "file:./b", "--database", `postgres://u:${secret}@h/db`], "--database number 1 is not NAME=TYPE:CONNECTION_STRING"],
    ["a database type that does not exist", ["--app", "shop", "--home", ".", "--storage", "file:./b", "--database", `MainDb=Oracle:postgres://u:${secret}@h/db`], "- --database (database 1): expected one of SqlAzure, MySql, LocalMySql, PostgreSql"],
    ["a database given twice", ["--app", "shop", "--home", ".", "--storage", "file:./b", "--database", `A=PostgreSql:postgres://u:${secret}@h/a`, "--database", `A=PostgreSql:postgres://u:${secret}@h/b`], "--database A is given twice."],
  ])("%s: exit 2, naming the flag, showing no secret", async (_name, flags, message) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flag-errors-"));
    const run = await runCli(["backup", ...flags, "--json"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.json.status).toBe("Error");
    expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it("without --config and without flags, reads app-backup.yml in the current directory as before", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flag-default-"));
    const run = await runCli(["backup", "--json"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.json.error.code).toBe("CONFIG_UNREADABLE");
    expect(run.stderr).toContain(path.join(dir, "app-backup.yml"));
  });
});
