import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlEngine } from "../../core/db/mysql/index.js";
import type { DumpSummary } from "../../core/db/types.js";
import { AppBackupError } from "../../core/errors.js";
import { rows, startMariaDbServer, structureDump, tableChecksums, type MariaDbServer } from "../support/mariadb.js";

let server: MariaDbServer;
let workDir: string;
let dumpFile: string;
let summary: DumpSummary;

async function dumpToFile(database: string, file: string): Promise<DumpSummary> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const result = await mysqlEngine.dump(server.connectionString(database), out);
  await writeFile(file, Buffer.concat(chunks));
  return result;
}

async function createDatabase(name: string): Promise<void> {
  await server.sql(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
}

async function scratchDatabases(): Promise<string[]> {
  return (await server.sql("SHOW DATABASES LIKE 'ab\\_restore\\_%'")).split("\n").filter(Boolean);
}

beforeAll(async () => {
  // A server time zone other than UTC proves TIMESTAMP values do not shift.
  server = await startMariaDbServer();
  await server.sql("SET GLOBAL time_zone = '+03:00'");
  workDir = await mkdtemp(join(tmpdir(), "ab-mysql-test-"));
  dumpFile = join(workDir, "source.sql");
  await createDatabase("source");
  // Created by the account that loads, so views, routines and triggers have the same DEFINER.
  await server.tool("mariadb", server.appToolArgs("source"), RICH_SCHEMA_SQL);
  summary = await dumpToFile("source", dumpFile);
});

afterAll(async () => {
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("MariaDB dump", () => {
  it("summarizes the server, the consistency used, every table with its row count, and the MyISAM table", async () => {
    expect(summary.engine).toBe("mariadb");
    expect(summary.serverVersion).toBe((await server.sql("SELECT VERSION()")).trim());
    expect(summary.database).toBe("source");
    expect(summary.consistency).toBe("REPEATABLE READ transaction WITH CONSISTENT SNAPSHOT, READ ONLY");
    const counts = await rows(
      server,
      "source",
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'source' AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    );
    const expected = [];
    for (const table of counts) {
      const [count] = await rows(server, "source", `SELECT COUNT(*) FROM \`${table.replace(/`/g, "``")}\``);
      expected.push({ name: `source.${table}`, rows: Number(count) });
    }
    expect([...summary.tables].sort((a, b) => a.name.localeCompare(b.name))).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
    expect(summary.tables.find((table) => table.name === "source.orders")!.rows).toBeGreaterThan(10_000);
    expect(summary.notCovered).toEqual(["source.legacy"]);
    expect(summary.warnings.join("\n")).toMatch(/source\.legacy.*not covered by the consistent snapshot|not covered by the consistent snapshot.*source\.legacy/);
  });

  it("writes plain SQL: extended inserts of at most about 1 MB, hex binaries, no DEFINER, DELIMITER blocks and an end marker", async () => {
    const text = await readFile(dumpFile, "utf8");
    const orderInserts = text.split("\n").filter((line) => line.startsWith("INSERT INTO `orders`"));
    expect(orderInserts.length).toBeGreaterThan(1);
    for (const line of orderInserts) expect(Buffer.byteLength(line)).toBeLessThan(1.1 * 1024 * 1024);
    expect(/DEFINER\s*=/.test(text)).toBe(false);
    expect(text.includes("DELIMITER ;;\nCREATE PROCEDURE `p_add_order`")).toBe(true);
    expect(/INSERT INTO `blobs` \(`id`,`small`,`fixed`,`big`,`maybe`,`place`,`uid`\) VALUES \(1,0x000102/.test(text)).toBe(true);
    expect(orderInserts[0]!.slice(0, 200)).toMatch(/^INSERT INTO `orders` \(`id`,`customer_id`,`total`,`ratio`,`score`,`status`,`tags`,`flags`,`placed`,`ship_date`,`ship_time`,`ship_year`,`doc`\) VALUES \(/);
    expect(text.trimEnd().split("\n").at(-1)).toMatch(/^-- Dump completed: 11 tables/);
  });
});

describe("MariaDB connection without TLS", () => {
  it("the default SslMode (Preferred) falls back to an unencrypted connection when the server has no TLS", async () => {
    const url = `mysql://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/source`;
    const result = await mysqlEngine.dump(url, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
    expect(result.tables.length).toBe(summary.tables.length);
  });

  it("SslMode=Required against a server without TLS says so", async () => {
    const error = await mysqlEngine.dump(server.connectionString("source", "SslMode=Required"), new PassThrough()).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppBackupError);
    expect((error as AppBackupError).message).toMatch(/does not support TLS, but the connection string requires it/);
  });
});

describe("MariaDB load", () => {
  it("restores structure, AUTO_INCREMENT values, views, routines, triggers and every row exactly", async () => {
    await createDatabase("restored");
    const loaded = await mysqlEngine.load(server.connectionString("restored"), createReadStream(dumpFile));
    expect(loaded.database).toBe("restored");
    expect(loaded.tables).toBe(12);
    expect(loaded.atomicity).toMatch(/atomic RENAME TABLE/);
    expect(await structureDump(server, "restored")).toBe(await structureDump(server, "source"));
    expect(await tableChecksums(server, "restored")).toEqual(await tableChecksums(server, "source"));
    expect(await scratchDatabases()).toEqual([]);
  });

  it("loads again over the same content: the old tables' foreign key and trigger names do not clash with the new ones", async () => {
    await server.sql("INSERT INTO restored.audit (message) VALUES ('written after the first load')");
    await mysqlEngine.load(server.connectionString("restored"), createReadStream(dumpFile));
    expect(await structureDump(server, "restored")).toBe(await structureDump(server, "source"));
    expect(await tableChecksums(server, "restored")).toEqual(await tableChecksums(server, "source"));
    expect(await scratchDatabases()).toEqual([]);
  });

  it("restores the same file through the mariadb client", async () => {
    await createDatabase("client_restored");
    await server.tool("mariadb", server.appToolArgs("client_restored"), createReadStream(dumpFile));
    expect(await structureDump(server, "client_restored")).toBe(await structureDump(server, "source"));
    expect(await tableChecksums(server, "client_restored")).toEqual(await tableChecksums(server, "source"));
  });

  it("replaces what the target had: its other tables, views, routines and triggers are gone", async () => {
    await createDatabase("replaced");
    await server.tool(
      "mariadb",
      server.toolArgs("replaced"),
      `CREATE TABLE orders (id INT PRIMARY KEY, junk TEXT);
       INSERT INTO orders VALUES (1, 'old');
       CREATE TABLE stale (id INT);
       CREATE TRIGGER stale_bi BEFORE INSERT ON stale FOR EACH ROW SET NEW.id = 1;
       CREATE VIEW customers AS SELECT 1 AS id;
       CREATE VIEW stale_view AS SELECT * FROM stale;
       CREATE PROCEDURE stale_proc() SELECT 1;
       CREATE FUNCTION f_tax(x INT) RETURNS INT RETURN 0;`,
    );
    await mysqlEngine.load(server.connectionString("replaced"), createReadStream(dumpFile));
    expect(await structureDump(server, "replaced")).toBe(await structureDump(server, "source"));
    expect(await tableChecksums(server, "replaced")).toEqual(await tableChecksums(server, "source"));
    const leftovers = await rows(server, "replaced", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'replaced' AND (TABLE_NAME LIKE 'stale%' OR TABLE_NAME LIKE '\\_\\_ab%')");
    expect(leftovers).toEqual([]);
    expect(await scratchDatabases()).toEqual([]);
  });
});

describe("MariaDB load failures", () => {
  let beforeStructure: string;
  let beforeChecksums: Record<string, string>;

  beforeAll(async () => {
    await createDatabase("target");
    await server.tool("mariadb", server.toolArgs("target"), "CREATE TABLE keep_me (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO keep_me VALUES (1, 'a'), (2, 'b'); CREATE VIEW keep_view AS SELECT id FROM keep_me;");
    beforeStructure = await structureDump(server, "target");
    beforeChecksums = await tableChecksums(server, "target");
  });

  async function expectTargetUnchanged() {
    expect(await structureDump(server, "target")).toBe(beforeStructure);
    expect(await tableChecksums(server, "target")).toEqual(beforeChecksums);
    expect(await scratchDatabases()).toEqual([]);
  }

  async function loadFails(sql: string | Buffer): Promise<AppBackupError> {
    const error = await mysqlEngine.load(server.connectionString("target"), Readable.from([sql])).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppBackupError);
    expect((error as AppBackupError).code).toBe("DATABASE");
    expect((error as AppBackupError).describe()).not.toContain(server.password);
    return error as AppBackupError;
  }

  it("a dump cut inside a statement is refused and the target is unchanged", async () => {
    const full = await readFile(dumpFile);
    const error = await loadFails(full.subarray(0, Math.floor(full.length * 0.6)));
    expect(error.message).toMatch(/truncated/);
    expect(error.message).toMatch(/target database is unchanged/);
    await expectTargetUnchanged();
  });

  it("a dump cut between statements (no end marker) is refused and the target is unchanged", async () => {
    const text = await readFile(dumpFile, "utf8");
    const cut = text.slice(0, text.indexOf("\n", text.indexOf("INSERT INTO `orders`")) + 1);
    const error = await loadFails(cut);
    expect(error.message).toMatch(/does not end with its "-- Dump completed:" line/);
    await expectTargetUnchanged();
  });

  it("a statement the server rejects names its line and leaves the target unchanged", async () => {
    const text = await readFile(dumpFile, "utf8");
    const broken = text.replace("CREATE TABLE `tree`", "CREATE TABLE `tree` (broken");
    const error = await loadFails(broken);
    const line = broken.slice(0, broken.indexOf("CREATE TABLE `tree` (broken")).split("\n").length;
    expect(error.message).toContain(`line ${line}`);
    expect(error.message).toMatch(/target database is unchanged/);
    await expectTargetUnchanged();
  });

  it("a view that cannot be created fails the rehearsal, before the target is touched", async () => {
    const text = await readFile(dumpFile, "utf8");
    const broken = text.replace(/CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v_customer_totals` AS /, "$&select * from `no_such_table` union all ");
    const error = await loadFails(broken);
    expect(error.message).toMatch(/rehearsing in the scratch database/);
    expect(error.message).toMatch(/no_such_table/);
    await expectTargetUnchanged();
  });

  it("statements that reach outside the database are refused", async () => {
    const error = await loadFails("DROP DATABASE `source`;\n-- Dump completed: 0 tables\n");
    expect(error.message).toMatch(/refused/);
    await expectTargetUnchanged();
    expect(await rows(server, "source", "SELECT COUNT(*) FROM customers")).toEqual(["5"]);
  });
});

describe("MariaDB dump under concurrent writes", () => {
  it("is one consistent snapshot while a writer keeps committing", async () => {
    await createDatabase("bank");
    await server.sql(
      `CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
       CREATE TABLE ledger (id INT AUTO_INCREMENT PRIMARY KEY, amount INT NOT NULL) ENGINE=InnoDB;
       INSERT INTO accounts VALUES (1, 100000), (2, 0);`,
      "bank",
    );
    const mysql = (await import("mysql2/promise")).default;
    const writer = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: server.user, password: server.password, database: "bank" });
    let commits = 0;
    let stop = false;
    // Each transfer moves 1 from account 1 to account 2 and logs it: the ledger always has as many rows as account 2's balance.
    const writing = (async () => {
      while (!stop) {
        await writer.query("START TRANSACTION");
        await writer.query("UPDATE accounts SET balance = balance - 1 WHERE id = 1");
        await writer.query("UPDATE accounts SET balance = balance + 1 WHERE id = 2");
        await writer.query("INSERT INTO ledger (amount) VALUES (1)");
        await writer.query("COMMIT");
        commits++;
      }
    })();
    // The destination lets each chunk through only after more transfers have committed, so the
    // writer is certainly active between the reads of the two tables.
    const chunks: Buffer[] = [];
    const out = new Writable({
      highWaterMark: 1,
      write(chunk, _encoding, callback) {
        chunks.push(chunk);
        const target = commits + 5;
        const wait = () => (commits >= target ? callback() : setTimeout(wait, 5));
        wait();
      },
    });
    const commitsAtStart = commits;
    const bankSummary = await mysqlEngine.dump(server.connectionString("bank"), out);
    const commitsDuringDump = commits - commitsAtStart;
    stop = true;
    await writing;
    await writer.end();
    expect(commitsDuringDump).toBeGreaterThanOrEqual(10);

    await createDatabase("bank_restored");
    await mysqlEngine.load(server.connectionString("bank_restored"), Readable.from([Buffer.concat(chunks)]));
    const [balances] = await rows(server, "bank_restored", "SELECT CONCAT(SUM(balance), ' ', MAX(IF(id = 2, balance, 0))) FROM accounts");
    const [ledgerRows] = await rows(server, "bank_restored", "SELECT COUNT(*) FROM ledger");
    const [total, transferred] = balances!.split(" ").map(Number);
    expect(total).toBe(100000);
    expect(Number(ledgerRows)).toBe(transferred);
    expect(bankSummary.tables).toEqual([
      { name: "bank.accounts", rows: 2 },
      { name: "bank.ledger", rows: transferred },
    ]);
    // The snapshot predates the transfers committed while the dump ran.
    const [liveLedger] = await rows(server, "bank", "SELECT COUNT(*) FROM ledger");
    expect(Number(liveLedger)).toBeGreaterThan(transferred!);
  });
});

describe("MariaDB dump interrupted", () => {
  it("rejects when its connection is killed mid-dump, and never ends the output", async () => {
    let ended = false;
    let killed = false;
    const out = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        if (killed || !chunk.toString("utf8").startsWith("INSERT INTO `orders`")) {
          callback();
          return;
        }
        killed = true;
        server
          .sql("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app'")
          .then((ids) => server.sql(`KILL ${ids.trim().split("\n")[0]}`))
          .then(() => callback(), callback);
      },
      final(callback) {
        ended = true;
        callback();
      },
    });
    const error = await mysqlEngine.dump(server.connectionString("source"), out).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(killed).toBe(true);
    expect(error).toBeInstanceOf(AppBackupError);
    expect((error as AppBackupError).code).toBe("DATABASE");
    expect((error as AppBackupError).message).toMatch(/connection was lost/);
    expect((error as AppBackupError).describe()).not.toContain(server.password);
    expect(ended).toBe(false);
  });

  it("stops when its signal aborts", async () => {
    const controller = new AbortController();
    const out = new PassThrough();
    out.once("data", () => controller.abort(new Error("stopped by the test")));
    out.resume();
    await expect(mysqlEngine.dump(server.connectionString("source"), out, { signal: controller.signal })).rejects.toThrow("stopped by the test");
  });
});

/**
 * A database exercising everything a MariaDB dump must carry: character sets, every common
 * column type at its edges, generated and invisible columns, AUTO_INCREMENT values (including
 * an explicit 0), FULLTEXT and spatial keys, foreign keys (including a cycle and a
 * self-reference), a MyISAM table, a sequence, views on views and on a function, routines
 * with `;` in their bodies, ordered triggers, and names that need quoting.
 */
// Written raw so SQL escapes stay as they are; a backquote is written \` and unescaped below.
const RICH_SCHEMA_SQL = String.raw`
SET time_zone = '+09:00', max_recursive_iterations = 100000, group_concat_max_len = 16777216;
SET sql_mode = 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION';

CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(190) NOT NULL,
  name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  bio TEXT NULL,
  latin_note VARCHAR(50) CHARACTER SET latin1 COLLATE latin1_german1_ci NULL,
  signup TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  secret_rank INT INVISIBLE DEFAULT 7,
  UNIQUE KEY uq_email (email),
  FULLTEXT KEY ft_bio (bio)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci AUTO_INCREMENT=1000 COMMENT='people who buy';

CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NOT NULL,
  total DECIMAL(20,6) NOT NULL,
  ratio FLOAT NULL,
  score DOUBLE NULL,
  status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
  tags SET('a','b','c') NULL,
  flags BIT(10) NULL,
  placed DATETIME(6) NULL,
  ship_date DATE NULL,
  ship_time TIME(3) NULL,
  ship_year YEAR NULL,
  doc JSON NULL,
  total_with_tax DECIMAL(20,6) AS (total * 1.2) VIRTUAL,
  status_upper VARCHAR(10) AS (UPPER(status)) STORED,
  PRIMARY KEY (id),
  KEY idx_customer_placed (customer_id, placed DESC),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE ON UPDATE RESTRICT,
  CONSTRAINT chk_total CHECK (total <> 123.456)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 AUTO_INCREMENT=5000;

CREATE TABLE blobs (
  id INT NOT NULL PRIMARY KEY,
  small VARBINARY(300) NULL,
  fixed BINARY(4) NULL,
  big LONGBLOB NULL,
  maybe BLOB NULL,
  place POINT NULL,
  uid UUID NULL
) ENGINE=InnoDB;

CREATE TABLE places (
  id INT NOT NULL PRIMARY KEY,
  spot POINT NOT NULL,
  SPATIAL KEY sp_spot (spot)
) ENGINE=InnoDB;

CREATE TABLE legacy (id INT PRIMARY KEY, note VARCHAR(20)) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE tree (
  id INT PRIMARY KEY,
  parent_id INT NULL,
  CONSTRAINT fk_tree_parent FOREIGN KEY (parent_id) REFERENCES tree (id)
) ENGINE=InnoDB;

-- A foreign-key cycle: only loadable with FOREIGN_KEY_CHECKS=0.
CREATE TABLE cycle_a (id INT PRIMARY KEY, b_id INT NULL, KEY (b_id)) ENGINE=InnoDB;
CREATE TABLE cycle_b (id INT PRIMARY KEY, a_id INT NULL, CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES cycle_a (id)) ENGINE=InnoDB;
ALTER TABLE cycle_a ADD CONSTRAINT fk_a_b FOREIGN KEY (b_id) REFERENCES cycle_b (id);

CREATE TABLE \`odd name\`\`s\` (\`weird col\` INT NOT NULL, \`select\` VARCHAR(5) NULL, PRIMARY KEY (\`weird col\`)) ENGINE=InnoDB;

CREATE TABLE empty_table (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB AUTO_INCREMENT=42;

CREATE TABLE audit (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, message VARCHAR(200) NOT NULL) ENGINE=InnoDB;

CREATE SEQUENCE invoice_numbers START WITH 100 INCREMENT BY 5;

INSERT INTO customers (id, email, name, bio, latin_note, signup, secret_rank) VALUES
  (0, 'zero@example.com', 'Zero Id', NULL, NULL, '2024-03-10 02:30:00.000001', 1),
  (1, 'emoji@example.com', 'Smile 😀 𝄞 and 中文', 'likes cats; and "quotes" and ''single'' ones', 'Grüße', '1970-01-01 09:00:01.000000', 2),
  (2, 'empty@example.com', '', '', '', '2038-01-19 12:14:07.999999', NULL),
  (3, 'escapes@example.com', 'Back\\slash', CONCAT('nul', CHAR(0), 'ctrlz', CHAR(26), 'cr', CHAR(13), 'lf', CHAR(10), 'tab', CHAR(9), 'end'), 'ÄÖÜß', '2000-02-29 23:59:59.500000', 3),
  (4, 'long@example.com', 'Long', REPEAT('full text search words ', 2000), NULL, '2024-01-01 00:00:00.000000', 4);

INSERT INTO orders (id, customer_id, total, ratio, score, status, tags, flags, placed, ship_date, ship_time, ship_year, doc) VALUES
  (1, 1, 99999999999999.999999, 3.40282e38, 1.7976931348623157e308, 'paid', 'a,c', b'1010101010', '1000-01-01 00:00:00.000000', '1000-01-01', '-838:59:59.000', 1901, '{"a": [1, 2.5, "x😀"], "b": null, "c": {"d": true}}'),
  (2, 1, -99999999999999.999999, 1.17549e-38, 2.2250738585072014e-308, 'new', '', b'0', '9999-12-31 23:59:59.999999', '9999-12-31', '838:59:59.999', 2155, '[]'),
  (3, 2, 0.000001, -0.1, 0.1, 'shipped', 'a,b,c', b'1111111111', '2024-02-29 12:34:56.123456', '2024-02-29', '00:00:00.001', 0, '"just a string"'),
  (4, 3, 0, NULL, 0.30000000000000004, 'new', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (5, 0, 1, 1e-10, 1.0000000000000002, 'new', NULL, NULL, NULL, NULL, NULL, NULL, '{"quote": "it''s \\"here\\"", "backslash": "\\\\"}');
INSERT INTO orders (customer_id, total, ratio, score, status, placed, doc)
  WITH RECURSIVE n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
  SELECT 1 + (i MOD 4), i * 1.25, i / 7, i / 3, ELT(1 + (i MOD 3), 'new', 'paid', 'shipped'), TIMESTAMP('2023-01-01') + INTERVAL i MINUTE, JSON_OBJECT('i', i, 'label', CONCAT('order ', i))
  FROM n;
DELETE FROM orders WHERE id > 12000 AND id MOD 1000 = 0;

INSERT INTO blobs (id, small, fixed, big, maybe, place, uid) VALUES
  (1, (WITH RECURSIVE b AS (SELECT 0 AS v UNION ALL SELECT v + 1 FROM b WHERE v < 255) SELECT GROUP_CONCAT(CHAR(v) ORDER BY v SEPARATOR '') FROM b), 0x00000000, NULL, '', ST_GeomFromText('POINT(1.5 -2.25)'), '123e4567-e89b-12d3-a456-426614174000'),
  (2, '', 0x41420000, NULL, NULL, NULL, NULL),
  (3, NULL, NULL, NULL, 0x27225C00, NULL, NULL);
UPDATE blobs SET big = (WITH RECURSIVE r AS (SELECT 1 AS i, RANDOM_BYTES(1024) AS chunk UNION ALL SELECT i + 1, RANDOM_BYTES(1024) FROM r WHERE i < 3000) SELECT GROUP_CONCAT(chunk SEPARATOR '') FROM r) WHERE id = 2;

INSERT INTO places VALUES (1, ST_GeomFromText('POINT(10 20)')), (2, ST_GeomFromText('POINT(-1 -1)'));
INSERT INTO legacy VALUES (1, 'myisam row'), (2, NULL);
INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 2);
INSERT INTO cycle_a VALUES (1, NULL);
INSERT INTO cycle_b VALUES (1, 1);
UPDATE cycle_a SET b_id = 1 WHERE id = 1;
INSERT INTO \`odd name\`\`s\` VALUES (1, 'sel'), (2, NULL);
INSERT INTO empty_table VALUES (1);
DELETE FROM empty_table;
INSERT INTO audit (message) VALUES ('before dump');
DO NEXTVAL(invoice_numbers);
DO NEXTVAL(invoice_numbers);

CREATE FUNCTION f_tax(amount DECIMAL(20,6)) RETURNS DECIMAL(20,6) DETERMINISTIC RETURN amount * 0.2;

DELIMITER ;;
CREATE PROCEDURE p_add_order(IN customer INT UNSIGNED, IN amount DECIMAL(20,6))
  COMMENT 'adds; an order'
BEGIN
  DECLARE note VARCHAR(20) DEFAULT 'semi;colon;;';
  INSERT INTO orders (customer_id, total) VALUES (customer, amount);
  INSERT INTO audit (message) VALUES (CONCAT('order added ', note));
END ;;
CREATE TRIGGER orders_bi_first BEFORE INSERT ON orders FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN SET NEW.status = 'new'; END IF;
END ;;
CREATE TRIGGER orders_bi_second BEFORE INSERT ON orders FOR EACH ROW FOLLOWS orders_bi_first
  SET NEW.ratio = IFNULL(NEW.ratio, 0.5) ;;
CREATE TRIGGER orders_au AFTER UPDATE ON orders FOR EACH ROW
  INSERT INTO audit (message) VALUES (CONCAT('order ', NEW.id, ' changed; status ', NEW.status)) ;;
DELIMITER ;

SET sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION';
CREATE FUNCTION f_label(n INT) RETURNS VARCHAR(40) DETERMINISTIC RETURN 'label ' || n;
SET sql_mode = DEFAULT;

CREATE VIEW v_customer_totals AS
  SELECT c.id, c.name, COUNT(o.id) AS orders, SUM(o.total) AS total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
CREATE VIEW a_top_customers AS SELECT id, name, total FROM v_customer_totals WHERE total > 1000;
CREATE VIEW b_paid_orders AS SELECT id, total, status FROM orders WHERE status = 'paid' WITH CASCADED CHECK OPTION;
CREATE SQL SECURITY INVOKER VIEW v_taxes AS SELECT id, f_tax(total) AS tax, f_label(id) AS label FROM orders;
`.replaceAll("\\`", "`");
