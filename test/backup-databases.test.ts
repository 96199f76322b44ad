import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresEngine } from "../core/db/postgres/index.js";
import { runCli } from "./support/cli.js";
import { startMariaDbServer, type MariaDbServer } from "./support/mariadb.js";
import { freshDatabase, sql, startPostgres, type PostgresTestServer } from "./support/postgres.js";

let postgres: PostgresTestServer;
let mariadb: MariaDbServer;
let pgDatabase: string;
const shopDatabase = "shop_backup_cli";

beforeAll(async () => {
  [postgres, mariadb] = await Promise.all([startPostgres(), startMariaDbServer()]);
  pgDatabase = await freshDatabase(postgres, "main");
  await sql(postgres, pgDatabase, "CREATE TABLE orders (id serial PRIMARY KEY, note text); INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, 250) g;");
  await mariadb.sql(`CREATE DATABASE ${shopDatabase}; GRANT ALL ON ${shopDatabase}.* TO '${mariadb.user}'@'%';`);
  await mariadb.sql("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB; INSERT INTO items (name) VALUES ('a'), ('b'), ('c');", shopDatabase);
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), mariadb?.stop()]);
});

async function app(env: Record<string, string>, extra = "") {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dbapp-"));
  await mkdir(path.join(dir, "home/site/wwwroot"), { recursive: true });
  await writeFile(path.join(dir, "home/site/wwwroot/index.html"), "<h1>shop</h1>");
  const config = path.join(dir, "app-backup.yml");
  await writeFile(
    config,
    `name: shop
home: ./home
connectionStrings:
  MainDb: { type: PostgreSQL, value: "\${env:MAIN_DB}" }
  ShopDb: { type: MySql, value: "\${env:SHOP_DB}" }
backup:
  storage: file:./backups
  databases:
    - { connectionStringName: MainDb, databaseType: PostgreSql }
    - { connectionStringName: ShopDb, databaseType: MySql }
${extra}`,
  );
  return { dir, config, env, backups: path.join(dir, "backups") };
}

describe("backups with databases", () => {
  it("streams each database's dump into the zip and records it in the manifest", async () => {
    const env = { MAIN_DB: postgres.connectionString(pgDatabase), SHOP_DB: mariadb.connectionString(shopDatabase) };
    const { config, backups } = await app(env);
    const run = await runCli(["backup", "--config", config, "--json"], { env });
    expect(run.code).toBe(0);
    expect(run.json.status).toBe("Succeeded");
    expect(run.json.databases.map((d: { connectionStringName: string; engine: string }) => [d.connectionStringName, d.engine])).toEqual([
      ["MainDb", "postgresql"],
      ["ShopDb", "mariadb"],
    ]);

    const zip = path.join(backups, `${run.json.name}.zip`);
    execFileSync("unzip", ["-tq", zip]);
    const mainDump = execFileSync("unzip", ["-p", zip, "MainDb.sql"], { maxBuffer: 64 << 20 });
    const shopDump = execFileSync("unzip", ["-p", zip, "ShopDb.sql"], { maxBuffer: 64 << 20 });
    expect(mainDump.toString()).toContain("order 250");
    expect(shopDump.toString()).toMatch(/INSERT INTO `items`/);

    const manifest = await readFile(path.join(backups, `${run.json.name}.xml`), "utf8");
    const mainRecord = manifest.match(/<Database connectionStringName="MainDb"[^>]*>/)![0];
    expect(mainRecord).toContain('engine="postgresql"');
    expect(mainRecord).toContain('consistency="REPEATABLE READ READ ONLY transaction"');
    expect(mainRecord).toContain(`sizeBytes="${mainDump.length}"`);
    expect(mainRecord).toContain(`sha256="${createHash("sha256").update(mainDump).digest("hex")}"`);
    expect(mainRecord).toMatch(/serverVersion="1\d\./);
    expect(manifest).toMatch(/<Table name="public\.orders" rows="250"/);
    expect(manifest).toMatch(/<Table name="[^"]*items" rows="3"/);
    const shopRecord = manifest.match(/<Database connectionStringName="ShopDb"[^>]*>/)![0];
    expect(shopRecord).toMatch(/consistency="[^"]*CONSISTENT SNAPSHOT/i);
    expect(shopRecord).toContain(`sha256="${createHash("sha256").update(shopDump).digest("hex")}"`);
  });

  it("is Failed with no zip when a database refuses the credentials, naming it without the password", async () => {
    const badPassword = "Wr0ng-Pa55word-xyz";
    const env = {
      MAIN_DB: postgres.connectionString(pgDatabase).replace(/:([^:@/]+)@/, `:${badPassword}@`),
      SHOP_DB: mariadb.connectionString(shopDatabase),
    };
    expect(env.MAIN_DB).toContain(badPassword);
    const { config, backups } = await app(env);
    const run = await runCli(["backup", "--config", config, "--json"], { env });
    expect(run.code).toBe(1);
    expect(run.json.status).toBe("Failed");
    expect(run.json.zip).toBeNull();
    expect(run.json.error).toMatch(/The dump of database MainDb \(.*127\.0\.0\.1:\d+.*\) failed/);
    const files = await readdir(backups);
    expect(files.sort()).toEqual([`.metadata-${run.json.name}.xml.json`, `${run.json.name}.log`, `${run.json.name}.xml`]);
    const written = await Promise.all(files.map((f) => readFile(path.join(backups, f), "utf8")));
    for (const text of [run.stdout, run.stderr, ...written]) expect(text).not.toContain(badPassword);
    expect(written.join("\n")).toContain("<Status>Failed</Status>");

    const list = await runCli(["list", "--config", config, "--json"], { env });
    expect(list.json[0]).toMatchObject({ name: run.json.name, status: "Failed" });
  });

  it("is Failed when an unreachable database host stops the backup", async () => {
    const env = { MAIN_DB: "postgres://app:secret-pw-123@127.0.0.1:9/main", SHOP_DB: mariadb.connectionString(shopDatabase) };
    const { config, backups } = await app(env);
    const run = await runCli(["backup", "--config", config, "--json"], { env });
    expect(run.code).toBe(1);
    expect(run.json.error).toMatch(/MainDb/);
    expect(run.stdout + run.stderr).not.toContain("secret-pw-123");
    expect((await readdir(backups)).some((f) => f.endsWith(".zip"))).toBe(false);
  });

  describe("a dump larger than the stream blocks deflated on the workers", () => {
    let bigDatabase: string;
    /** About 7.5 MB of dump text: past the 4 MiB kept on the main thread, several 1 MiB blocks. */
    beforeAll(async () => {
      bigDatabase = await freshDatabase(postgres, "big");
      await sql(
        postgres,
        bigDatabase,
        `CREATE TABLE events (id integer PRIMARY KEY, kind text, payload jsonb, digest text);
         INSERT INTO events SELECT g, (ARRAY['view', 'click', 'buy'])[1 + g % 3], jsonb_build_object('page', '/p/' || (g % 997), 'n', g), md5(g::text)
         FROM generate_series(1, 100000) g;`,
      );
    });
    const checksum = "SELECT count(*)::int AS rows, md5(string_agg(e::text, ',' ORDER BY id)) AS content FROM events e";

    it("restores to the same rows", async () => {
      const env = { MAIN_DB: postgres.connectionString(bigDatabase), SHOP_DB: mariadb.connectionString(shopDatabase) };
      const { dir, config, backups } = await app(env);
      const run = await runCli(["backup", "--config", config, "--json"], { env });
      expect(run.code).toBe(0);
      const zip = path.join(backups, `${run.json.name}.zip`);
      execFileSync("unzip", ["-tq", zip]);
      const dump = execFileSync("unzip", ["-p", zip, "MainDb.sql"], { maxBuffer: 64 << 20 });
      expect(dump.length).toBeGreaterThan(6 * 1024 * 1024);
      const manifest = await readFile(path.join(backups, `${run.json.name}.xml`), "utf8");
      expect(manifest.match(/<Database connectionStringName="MainDb"[^>]*>/)![0]).toContain(`sha256="${createHash("sha256").update(dump).digest("hex")}"`);

      const dumpFile = path.join(dir, "MainDb.sql");
      await writeFile(dumpFile, dump);
      const restored = await freshDatabase(postgres, "restored");
      await postgresEngine.load(postgres.connectionString(restored), createReadStream(dumpFile));
      const [original] = await sql(postgres, bigDatabase, checksum);
      expect(original!.rows).toBe(100000);
      expect(await sql(postgres, restored, checksum)).toEqual([original]);
    });

    it("is Failed with no zip when the size limit stops the dump between blocks", async () => {
      const env = { MAIN_DB: postgres.connectionString(bigDatabase), SHOP_DB: mariadb.connectionString(shopDatabase) };
      const { config, backups } = await app(env, "  databaseMaxSize: 6MB\n");
      const run = await runCli(["backup", "--config", config, "--json"], { env });
      expect(run.code).toBe(1);
      expect(run.json.status).toBe("Failed");
      expect(run.json.error).toMatch(/exceeds the 6\.0 MB limit/);
      expect((await readdir(backups)).some((f) => f.endsWith(".zip"))).toBe(false);
    });
  });

  it("enforces the database size limit while streaming", async () => {
    const env = { MAIN_DB: postgres.connectionString(pgDatabase), SHOP_DB: mariadb.connectionString(shopDatabase) };
    const { config, backups } = await app(env, "  databaseMaxSize: 1KB\n");
    const run = await runCli(["backup", "--config", config, "--json"], { env });
    expect(run.code).toBe(1);
    expect(run.json.status).toBe("Failed");
    expect(run.json.error).toMatch(/exceeds the 1\.0 KB limit .* Your database size is at least/);
    expect((await readdir(backups)).some((f) => f.endsWith(".zip"))).toBe(false);
  });
});
