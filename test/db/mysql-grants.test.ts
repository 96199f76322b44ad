import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlEngine } from "../../core/db/mysql/index.js";
import { runCli } from "../support/cli.js";
import { startMariaDbServer, type MariaDbServer } from "../support/mariadb.js";

let server: MariaDbServer;
const database = "grants_shop";
const readerPassword = "Re4der;Pass'word";

/** The server's connection string, as another account. */
function connectionStringAs(user: string, password: string): string {
  return server.connectionString(database).replace(/Uid=[^;]*;Pwd="[^"]*"/, `Uid=${user};Pwd="${password.replace(/"/g, '""')}"`);
}

async function dumpWarnings(connectionString: string): Promise<{ warnings: string[]; tables: string[] }> {
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const summary = await mysqlEngine.dump(connectionString, sink);
  return { warnings: summary.warnings, tables: summary.tables.map((t) => t.name) };
}

beforeAll(async () => {
  server = await startMariaDbServer();
  await server.sql(`CREATE DATABASE ${database}`);
  await server.sql(
    "CREATE TABLE items (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO items VALUES (1), (2);" +
      "CREATE TABLE orders (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO orders VALUES (1);" +
      "CREATE TABLE secrets (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO secrets VALUES (1);",
    database,
  );
  const quoted = readerPassword.replace(/'/g, "''");
  await server.sql(
    `CREATE USER 'partial'@'%' IDENTIFIED BY '${quoted}';` +
      `GRANT SELECT ON ${database}.items TO 'partial'@'%'; GRANT SELECT ON ${database}.orders TO 'partial'@'%';` +
      `CREATE USER 'whole'@'%' IDENTIFIED BY '${quoted}'; GRANT SELECT, SHOW VIEW, LOCK TABLES ON ${database}.* TO 'whole'@'%';` +
      `CREATE USER 'viarole'@'%' IDENTIFIED BY '${quoted}'; CREATE ROLE shop_reader; GRANT SELECT ON ${database}.* TO shop_reader;` +
      `GRANT shop_reader TO 'viarole'@'%'; SET DEFAULT ROLE shop_reader FOR 'viarole'@'%';` +
      `CREATE USER 'wildcard'@'%' IDENTIFIED BY '${quoted}'; GRANT SELECT ON \`grants\\_%\`.* TO 'wildcard'@'%';` +
      `CREATE USER 'elsewhere'@'%' IDENTIFIED BY '${quoted}'; GRANT SELECT ON \`grants\\_shop\\_old\`.* TO 'elsewhere'@'%'; GRANT SELECT ON ${database}.items TO 'elsewhere'@'%';` +
      `CREATE USER 'counter'@'%' IDENTIFIED BY '${quoted}'; GRANT PROCESS ON *.* TO 'counter'@'%'; GRANT SELECT ON ${database}.items TO 'counter'@'%';`,
  );
});

afterAll(async () => {
  await server?.stop();
});

describe("MariaDB dump by an account that cannot see every table", () => {
  it("warns, naming the database, when SELECT is granted per table", async () => {
    const { warnings, tables } = await dumpWarnings(connectionStringAs("partial", readerPassword));
    expect(tables).toEqual([`${database}.items`, `${database}.orders`]);
    const warning = warnings.find((w) => w.includes("cannot see"));
    expect(warning).toBeDefined();
    expect(warning).toContain(`whole database ${database}`);
    expect(warning).toContain("tables the account cannot see are not in the dump");
    expect(warning).toContain(`Grant SELECT ON \`${database}\`.*`);
    expect(warning).not.toContain(readerPassword);
  });

  it("counts the tables it cannot see when the account may read InnoDB's own table list (PROCESS)", async () => {
    const { warnings } = await dumpWarnings(connectionStringAs("counter", readerPassword));
    expect(warnings.find((w) => w.includes(`whole database ${database}`))).toContain("the database has 3 tables, the account sees 1");
  });

  it("warns when the only database-wide SELECT is on another database", async () => {
    const { warnings, tables } = await dumpWarnings(connectionStringAs("elsewhere", readerPassword));
    expect(tables).toEqual([`${database}.items`]);
    expect(warnings.some((w) => w.includes(`whole database ${database}`))).toBe(true);
  });

  it("does not warn when SELECT covers the database, granted directly, by a wildcard pattern, through a role, or on *.*", async () => {
    for (const [user, password] of [
      ["whole", readerPassword],
      ["wildcard", readerPassword],
      ["viarole", readerPassword],
      [server.user, server.password],
    ] as const) {
      const { warnings, tables } = await dumpWarnings(connectionStringAs(user, password));
      expect(tables, user).toEqual([`${database}.items`, `${database}.orders`, `${database}.secrets`]);
      expect(warnings.filter((w) => w.includes("cannot see")), user).toEqual([]);
    }
  });

  it("says so in the backup's result, log and manifest", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "grants-"));
    await mkdir(path.join(dir, "home/site/wwwroot"), { recursive: true });
    await writeFile(path.join(dir, "home/site/wwwroot/index.html"), "<h1>shop</h1>");
    const config = path.join(dir, "app-backup.yml");
    await writeFile(
      config,
      [
        "name: shop",
        "home: ./home",
        "connectionStrings:",
        '  ShopDb: { type: MySql, value: "${env:SHOP_DB}" }',
        "backup:",
        "  storage: file:./backups",
        "  databases: [ { connectionStringName: ShopDb, databaseType: MySql } ]",
        "",
      ].join("\n"),
    );
    const env = { SHOP_DB: connectionStringAs("partial", readerPassword) };
    const run = await runCli(["backup", "--config", config, "--json"], { env });
    expect(run.stderr).not.toContain(readerPassword);
    expect(run.code).toBe(0);
    const mention = new RegExp(`whole database ${database}.*tables the account cannot see are not in the dump`);
    expect(run.json.warnings.some((w: string) => mention.test(w))).toBe(true);
    const log = await readFile(path.join(dir, "backups", `${run.json.name}.log`), "utf8");
    expect(log).toMatch(mention);
    const manifest = await readFile(path.join(dir, "backups", `${run.json.name}.xml`), "utf8");
    const record = manifest.slice(manifest.indexOf('<Database connectionStringName="ShopDb"'), manifest.indexOf("</Database>"));
    expect(record).toMatch(new RegExp(`<Warning>[^<]*whole database ${database}[^<]*tables the account cannot see are not in the dump`));
    for (const text of [log, manifest, run.stdout]) expect(text).not.toContain(readerPassword);
  });
});
