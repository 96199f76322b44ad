import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretsInConnectionString } from "../../core/secrets.js";
import { runCli } from "../support/cli.js";
import { rows, startMariaDbServer, type MariaDbServer } from "../support/mariadb.js";
import { contentChecksums, freshDatabase, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";
import { backUp, makeApp, treeFacts, type TestApp } from "../support/test-app.js";

let postgres: PostgresTestServer;
let mariadb: MariaDbServer;
let mariadbCounter = 0;

beforeAll(async () => {
  [postgres, mariadb] = await Promise.all([startPostgres(), startMariaDbServer()]);
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), mariadb?.stop()]);
});

async function freshMariaDb(): Promise<string> {
  const name = `shop_restore_${process.pid}_${++mariadbCounter}`;
  await mariadb.sql(`CREATE DATABASE ${name}; GRANT ALL ON ${name}.* TO '${mariadb.user}'@'%'; GRANT ALL ON \`ab\\_restore\\_%\`.* TO '${mariadb.user}'@'%';`);
  return name;
}

interface DatabaseApp extends TestApp {
  env: Record<string, string>;
  pg: string;
  shop: string;
}

/** An app with a PostgreSQL and a MariaDB database, both with rows, backed up by its configuration. */
async function databaseApp(options: { name?: string; databases?: boolean } = {}): Promise<DatabaseApp> {
  const pg = await freshDatabase(postgres, "restore");
  await sql(postgres, pg, "CREATE TABLE orders (id serial PRIMARY KEY, note text); INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, 120) g;");
  const shop = await freshMariaDb();
  await mariadb.sql("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB; INSERT INTO items (name) VALUES ('a'), ('b'), ('c');", shop);
  const env = { [`PG_${pg}`]: postgres.connectionString(pg), [`MY_${shop}`]: mariadb.connectionString(shop) };
  const app = await makeApp({
    name: options.name,
    extra:
      options.databases === false
        ? ""
        : "  databases:\n    - { connectionStringName: MainDb, databaseType: PostgreSql }\n    - { connectionStringName: ShopDb, databaseType: MySql }\n",
  });
  await writeFile(
    app.config,
    (await readFile(app.config, "utf8")).replace(
      "backup:",
      `connectionStrings:\n  MainDb: { type: PostgreSQL, value: "\${env:PG_${pg}}" }\n  ShopDb: { type: MySql, value: "\${env:MY_${shop}}" }\nbackup:`,
    ),
  );
  return { ...app, env, pg, shop };
}

const orderCount = async (database: string) => Number((await sql(postgres, database, "SELECT count(*) AS n FROM orders"))[0]!.n);
const itemNames = async (database: string) => rows(mariadb, database, "SELECT name FROM items ORDER BY id");

describe("restoring databases", () => {
  it("restores every database of the backup into the target's database of the same connection-string name, with the files", async () => {
    const app = await databaseApp();
    const original = treeFacts(app.home);
    const pgBefore = await contentChecksums(postgres, app.pg);
    const name = await backUp(app, "b1", app.env);
    await sql(postgres, app.pg, "DELETE FROM orders WHERE id > 10; CREATE TABLE intruder (x int);");
    await mariadb.sql("INSERT INTO items (name) VALUES ('late'); DELETE FROM items WHERE name = 'a';", app.shop);
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "changed");

    const run = await runCli(["restore", name, "--config", app.config, "--json"], { env: app.env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.databases.map((d: { connectionStringName: string; status: string }) => [d.connectionStringName, d.status])).toEqual([
      ["MainDb", "restored"],
      ["ShopDb", "restored"],
    ]);
    expect(run.json.databases[0]).toMatchObject({ databaseType: "PostgreSql", engine: "postgresql", tables: 1, rows: 120 });
    expect(run.json.parts).toEqual({ files: true, databases: ["MainDb", "ShopDb"], settings: false, connectionStrings: false });
    expect(await contentChecksums(postgres, app.pg)).toEqual(pgBefore);
    expect(await itemNames(app.shop)).toEqual(["a", "b", "c"]);
    expect(treeFacts(app.home)).toEqual(original);
    for (const secret of [...secretsInConnectionString(app.env[`PG_${app.pg}`]!), ...secretsInConnectionString(app.env[`MY_${app.shop}`]!)]) {
      expect(run.stdout + run.stderr).not.toContain(secret);
    }
  });

  it("--ignore-databases restores the files only", async () => {
    const app = await databaseApp();
    const original = treeFacts(app.home);
    const name = await backUp(app, "b1", app.env);
    await sql(postgres, app.pg, "DELETE FROM orders");
    await writeFile(path.join(app.home, "site/wwwroot/index.html"), "changed");

    const run = await runCli(["restore", name, "--config", app.config, "--ignore-databases", "--json"], { env: app.env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.databases.map((d: { status: string }) => d.status)).toEqual(["ignored", "ignored"]);
    expect(run.json.parts.databases).toEqual([]);
    expect(await orderCount(app.pg)).toBe(0);
    expect(treeFacts(app.home)).toEqual(original);
  });

  it("restores into another app's databases with --to, leaving the source's alone", async () => {
    const source = await databaseApp();
    const name = await backUp(source, "b1", source.env);
    await sql(postgres, source.pg, "INSERT INTO orders (note) VALUES ('after the backup')");
    const target = await databaseApp({ name: "shop-staging", databases: false });
    await sql(postgres, target.pg, "DELETE FROM orders");
    await mariadb.sql("DELETE FROM items", target.shop);

    const run = await runCli(["restore", name, "--config", source.config, "--to", target.config, "--json"], { env: { ...source.env, ...target.env } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.databases.map((d: { target: string }) => d.target)).toEqual([expect.stringContaining(target.pg), expect.stringContaining(target.shop)]);
    expect(await orderCount(target.pg)).toBe(120);
    expect(await itemNames(target.shop)).toEqual(["a", "b", "c"]);
    expect(await orderCount(source.pg)).toBe(121);
  });

  it("a target without a connection string of that name is refused before anything changes", async () => {
    const source = await databaseApp();
    const name = await backUp(source, "b1", source.env);
    const target = await databaseApp({ name: "shop-staging", databases: false });
    await writeFile(target.config, (await readFile(target.config, "utf8")).replace(/\n {2}ShopDb: .*\n/, "\n"));
    await writeFile(path.join(target.home, "site/wwwroot/index.html"), "the target's page");
    await sql(postgres, target.pg, "DELETE FROM orders");
    const before = treeFacts(target.home);

    const run = await runCli(["restore", name, "--config", source.config, "--to", target.config, "--json"], { env: { ...source.env, ...target.env } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("holds database ShopDb, but the target app shop-staging has no connection string of that name; nothing was changed");
    expect(run.stderr).toContain("--ignore-databases");
    expect(treeFacts(target.home)).toEqual(before);
    expect(await orderCount(target.pg)).toBe(0);
  });

  it("a database that fails to restore leaves the files as they were and says which databases were restored", async () => {
    const source = await databaseApp();
    const name = await backUp(source, "b1", source.env);
    const target = await databaseApp({ name: "shop-staging", databases: false });
    await sql(postgres, target.pg, "DELETE FROM orders");
    await writeFile(path.join(target.home, "site/wwwroot/index.html"), "the target's page");
    const before = treeFacts(target.home);
    // ShopDb points at a server that is not there.
    const env = { ...source.env, ...target.env, [`MY_${target.shop}`]: `Server=127.0.0.1;Port=9;Database=${target.shop};Uid=u;Pwd=not-the-password` };

    const run = await runCli(["restore", name, "--config", source.config, "--to", target.config, "--json"], { env });
    expect(run.code).toBe(1);
    expect(run.json.status).toBe("Failed");
    expect(run.json.parts).toEqual({ files: false, databases: ["MainDb"], settings: false, connectionStrings: false });
    expect(run.json.databases.map((d: { connectionStringName: string; status: string }) => [d.connectionStringName, d.status])).toEqual([
      ["MainDb", "restored"],
      ["ShopDb", "failed"],
    ]);
    expect(run.json.databases[1].atomicity).toMatch(/RENAME TABLE/);
    expect(run.json.error.message).toMatch(/Restoring database ShopDb into .* failed/);
    expect(run.json.error.message).toContain("The files were not restored (the home is as it was); database MainDb had already been restored and stays restored");
    expect(run.json.error.message).toContain("What a failed load leaves behind on this engine:");
    expect(run.stdout + run.stderr).not.toContain("not-the-password");
    expect(await orderCount(target.pg)).toBe(120);
    expect(treeFacts(target.home)).toEqual(before);
  });
});
