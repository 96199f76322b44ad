import type { ChildProcess } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMariaDbServer, TEST_PASSWORD, type MariaDbServer } from "../support/mariadb.js";
import { freshDatabase, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";
import { makeWorkspace, removeTemporaryFolders, zipEntries } from "../support/action-workspace.js";
import { runAction, type ActionRun } from "../support/run-action.js";
import { containerObjects } from "../support/container-files.js";

let postgres: PostgresTestServer;
let mariadb: MariaDbServer;
beforeAll(async () => {
  [postgres, mariadb] = await Promise.all([startPostgres(), startMariaDbServer()]);
});
afterAll(async () => {
  await removeTemporaryFolders();
  await Promise.all([postgres?.stop(), mariadb?.stop()]);
});

function everythingVisible(run: ActionRun): string {
  return [run.visibleLog, run.stderr, run.files].join("\n");
}

let mariaCounter = 0;
async function mariaDatabase(): Promise<string> {
  const name = `shop_${process.pid}_${++mariaCounter}`;
  await mariadb.sql(`CREATE DATABASE \`${name}\`; CREATE TABLE \`${name}\`.products (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB;
    INSERT INTO \`${name}\`.products VALUES (1, 'kettle'), (2, 'teapot'), (3, 'mug');`);
  return name;
}

async function postgresDatabase(): Promise<string> {
  const name = await freshDatabase(postgres, "orders");
  await sql(postgres, name, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 200) g;");
  return name;
}

/**
 * Resolves once a session of the test role waits for a lock (the step is then
 * blocked on the test's lock); fails with the step's output if it ends first.
 */
async function untilWaitingForLock(database: string, step: Promise<ActionRun>): Promise<void> {
  let ended: ActionRun | undefined;
  void step.then((run) => (ended = run));
  for (;;) {
    if (ended) throw new Error(`The step ended before it waited for the lock (exit code ${ended.code}):\n${ended.stdout}\n${ended.stderr}`);
    const waiting = await postgres.adminQuery(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${database}' AND usename = '${postgres.user}' AND wait_event_type = 'Lock'`,
    );
    if (waiting.rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Holds a lock on the orders table in an open transaction until released. */
async function lockOrders(database: string, mode: "ACCESS EXCLUSIVE" | "ACCESS SHARE") {
  const client: pg.Client = await postgres.client(database);
  client.on("error", () => undefined);
  await client.query(`BEGIN; LOCK TABLE orders IN ${mode} MODE`);
  return {
    async release() {
      await client.query("ROLLBACK").catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

describe("databases", () => {
  it("backs up and restores a PostgreSQL and a MariaDB database named in the databases input, and no password reaches anything", async () => {
    const { workspace } = await makeWorkspace();
    const ordersDb = await postgresDatabase();
    const shopDb = await mariaDatabase();
    const app = {
      "app-name": "shop",
      home: "home",
      storage: "file:./backups",
      // MainDb as the README recommends (a reference to the step's env); Shop as a secret written into the input.
      databases: `MainDb:PostgreSql=\${env:MAIN_DB}\nShop:MySql=${mariadb.connectionString(shopDb)}`,
    };
    const env = { MAIN_DB: postgres.connectionString(ordersDb) };

    const backup = await runAction({ workspace, inputs: app, env });
    expect(backup.errors).toEqual([]);
    expect(backup.code).toBe(0);
    expect(backup.outputs.status).toBe("Succeeded");
    expect(backup.summary).toContain("#### Databases");
    expect(backup.summary).toMatch(/\| MainDb \| postgresql \| [\d.]+ (B|KB) \| 1 \| [^|]*REPEATABLE READ[^|]* \|/);
    expect(backup.summary).toMatch(/\| Shop \| (mariadb|mysql) \| [\d.]+ (B|KB) \| 1 \| [^|]+ \|/);
    // The literal password is kept out of the backup's meta, with a warning saying how to avoid it.
    expect(backup.warnings.some((w) => w.includes("Connection string Shop holds a literal password"))).toBe(true);

    const name = backup.outputs["backup-name"]!;
    const entries = zipEntries(path.join(workspace, "backups", `${name}.zip`));
    expect(entries["MainDb.sql"]).toContain("item 200");
    expect(entries["Shop.sql"]).toContain("teapot");
    expect(entries.meta).toContain('value="${env:MAIN_DB}"');
    expect(entries.meta).not.toContain(TEST_PASSWORD.replace(/'/g, "&apos;"));
    expect(entries.meta).not.toContain(postgres.password);

    await sql(postgres, ordersDb, "DELETE FROM orders WHERE id > 10");
    await mariadb.sql(`DELETE FROM \`${shopDb}\`.products WHERE id = 2`);
    const restore = await runAction({ workspace, inputs: { ...app, operation: "restore", "backup-name": name }, env });
    expect(restore.errors).toEqual([]);
    expect(restore.code).toBe(0);
    expect(restore.summary).toMatch(/\| MainDb \| PostgreSql \| 1 \| 200 \| [^|]+ \| restored \|/);
    expect(await sql(postgres, ordersDb, "SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 200 }]);
    expect((await mariadb.sql(`SELECT name FROM \`${shopDb}\`.products ORDER BY id`)).trim().split("\n")).toEqual(["kettle", "teapot", "mug"]);

    for (const run of [backup, restore]) {
      expect(run.masked).toContain(postgres.password);
      expect(run.masked).toContain(TEST_PASSWORD);
      expect(everythingVisible(run)).not.toContain(postgres.password);
      expect(everythingVisible(run)).not.toContain(TEST_PASSWORD);
      expect(everythingVisible(run)).not.toContain(encodeURIComponent(TEST_PASSWORD));
    }
    const manifest = await readFile(path.join(workspace, "backups", `${name}.xml`), "utf8");
    expect(manifest).not.toContain(postgres.password);
    expect(manifest).not.toContain("w0rd");
  });

  it("fails with a clear error, without the password, when the database refuses the login", async () => {
    const { workspace } = await makeWorkspace();
    const ordersDb = await postgresDatabase();
    const wrong = postgres.connectionString(ordersDb).replace(postgres.password, "not-the-password-123");
    const run = await runAction({
      workspace,
      inputs: { "app-name": "shop", home: "home", storage: "file:./backups", databases: "MainDb:PostgreSql=${env:MAIN_DB}" },
      env: { MAIN_DB: wrong },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe("Failed");
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^Backup shop_\d{14} failed: The dump of database MainDb \(.*\) failed: /);
    expect(everythingVisible(run)).not.toContain("not-the-password-123");
    // A failed backup leaves its manifest and log (status Failed) and never a zip.
    expect((await containerObjects(path.join(workspace, "backups"))).map((f) => path.extname(f)).sort()).toEqual([".log", ".xml"]);
  });
});

describe("a cancelled job: the post step cleans up after the stopped main step", () => {
  it("removes the half-written zip of a backup stopped while its database dump waited", async () => {
    const { workspace } = await makeWorkspace();
    const ordersDb = await postgresDatabase();
    const lock = await lockOrders(ordersDb, "ACCESS EXCLUSIVE");
    let child: ChildProcess | undefined;
    let main: ActionRun;
    let staged: string[];
    try {
      const running = runAction({
        workspace,
        inputs: { "app-name": "shop", home: "home", storage: "file:./backups", databases: "MainDb:PostgreSql=${env:MAIN_DB}", "backup-name": "shop_cancelled" },
        env: { MAIN_DB: postgres.connectionString(ordersDb) },
        onSpawn: (spawned) => (child = spawned),
      });
      await untilWaitingForLock(ordersDb, running);
      staged = (await readdir(path.join(workspace, "backups"))).filter((f) => f.startsWith(".partial-"));
      // The runner's first signal when a job is cancelled.
      child!.kill("SIGINT");
      main = await running;
    } finally {
      await lock.release();
    }
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatch(/-shop_cancelled\.zip$/);
    expect(main.code).not.toBe(0);
    expect(main.state["partial-uploads"]).toBe(JSON.stringify({ container: path.join(workspace, "backups"), backupName: "shop_cancelled" }));
    const tempDir = main.state["temp-dir"]!;
    expect((await stat(tempDir)).isDirectory()).toBe(true);

    const post = await runAction({ workspace, entry: "post", inputs: {}, state: main.state });
    expect(post.code).toBe(0);
    expect(post.visibleLog).toContain(`Removed ${path.join(workspace, "backups", staged[0]!)}`);
    expect(await readdir(path.join(workspace, "backups"))).toEqual([]);
    await expect(stat(tempDir)).rejects.toThrow(/ENOENT/);
  });

  it("rolls back a restore killed while loading its database: the home and the database stay as they were", async () => {
    const { workspace, home } = await makeWorkspace();
    const ordersDb = await postgresDatabase();
    const app = { "app-name": "shop", home: "home", storage: "file:./backups", databases: "MainDb:PostgreSql=${env:MAIN_DB}" };
    const env = { MAIN_DB: postgres.connectionString(ordersDb) };
    expect((await runAction({ workspace, inputs: { ...app, "backup-name": "shop_before" }, env })).code).toBe(0);
    await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>changed after the backup</h1>");
    await sql(postgres, ordersDb, "DELETE FROM orders WHERE id > 100");

    const lock = await lockOrders(ordersDb, "ACCESS SHARE");
    let child: ChildProcess | undefined;
    let main: ActionRun;
    let beside: string[];
    try {
      const running = runAction({ workspace, inputs: { ...app, operation: "restore", "backup-name": "shop_before" }, env, onSpawn: (spawned) => (child = spawned) });
      await untilWaitingForLock(ordersDb, running);
      beside = await readdir(workspace);
      // The runner's last resort after SIGINT and SIGTERM.
      child!.kill("SIGKILL");
      main = await running;
    } finally {
      await lock.release();
    }
    expect(beside).toContain("home.restore.json");
    expect(beside.some((f) => /^home\.restore-[0-9a-f]{12}$/.test(f))).toBe(true);
    expect(main.state["restore-home"]).toBe(home);

    const post = await runAction({ workspace, entry: "post", inputs: {}, state: main.state });
    expect(post.code).toBe(0);
    expect(post.warnings).toEqual([`The restore of shop_before into ${home} was interrupted; it was rolled back.`]);
    expect((await readdir(workspace)).sort()).toEqual(["backups", "home"]);
    expect(await readFile(path.join(home, "site/wwwroot/index.html"), "utf8")).toBe("<h1>changed after the backup</h1>");
    expect(await sql(postgres, ordersDb, "SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 100 }]);
  });
});
