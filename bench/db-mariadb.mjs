/**
 * MariaDB dump benchmark: our engine (over mysql2) against `mariadb-dump --single-transaction`
 * on the same generated database, both as child processes writing to /dev/null, alternating,
 * medians reported. Then peak memory: our dump of a database whose big table is 10× larger
 * must not need more than 25 % more RSS.
 *
 *   npx tsc -p tsconfig.build.json && node bench/db-mariadb.mjs
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_MARIADB_ROWS (rows of the big table, default 2000000).
 * Starts and stops its own throwaway server (as the tests do). Exits 1 if a bar fails.
 */
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const thisScript = fileURLToPath(import.meta.url);
const CHILD_FLAG = "--our-dump";

if (process.argv[2] === CHILD_FLAG) {
  await dumpAsChild(process.argv[3], process.argv[4]);
} else {
  await benchmark();
}

/** Child mode: one dump with our engine, so its wall time and peak RSS are measured like mariadb-dump's. */
async function dumpAsChild(outFile, summaryFile) {
  const { mysqlEngine } = await import("../dist/core/db/mysql/index.js");
  let bytes = 0;
  const file = createWriteStream(outFile);
  const originalWrite = file.write.bind(file);
  file.write = (chunk, ...rest) => {
    bytes += chunk.length;
    return originalWrite(chunk, ...rest);
  };
  const summary = await mysqlEngine.dump(process.env.APP_BACKUP_BENCH_MARIADB, file);
  if (summaryFile) writeFileSync(summaryFile, JSON.stringify({ bytes, rows: summary.tables.reduce((n, t) => n + t.rows, 0), tables: summary.tables.length }));
}

/** Typical application tables: ids, short and long text (with quotes and non-ASCII), decimals, date/times, JSON, doubles, binaries. */
function eventsTable(rows) {
  return `
    CREATE TABLE events (
      id BIGINT NOT NULL PRIMARY KEY, user_id INT NOT NULL, kind VARCHAR(16) NOT NULL, amount DECIMAL(12,2),
      at DATETIME(6) NOT NULL, recorded TIMESTAMP NOT NULL, payload JSON, ref CHAR(36) NOT NULL, score DOUBLE, flags TINYINT NOT NULL,
      KEY events_user (user_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    INSERT INTO events
      SELECT seq, seq MOD 100000, ELT(1 + seq MOD 4, 'view', 'click', 'purchase', 'signup'), (seq MOD 100000) / 100,
        TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL (seq MOD 999983) MICROSECOND,
        TIMESTAMP('2024-01-01') + INTERVAL seq SECOND,
        JSON_OBJECT('page', CONCAT('/p/', seq MOD 5000), 'n', seq, 'ok', seq MOD 3 = 0, 'q', 'it''s "quoted"'),
        CONCAT_WS('-', LEFT(MD5(seq), 8), MID(MD5(seq), 9, 4), MID(MD5(seq), 13, 4), MID(MD5(seq), 17, 4), RIGHT(MD5(seq), 12)),
        seq / 7, seq MOD 128
      FROM seq_1_to_${rows};`;
}

function otherTables(bigRows) {
  return `
    CREATE TABLE accounts (
      id INT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(120) NOT NULL, balance DECIMAL(14,2) NOT NULL,
      created DATETIME NOT NULL, active TINYINT(1) NOT NULL, notes TEXT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    INSERT INTO accounts
      SELECT seq, CONCAT('Account holder ', seq, ' – Zoë'), CONCAT('user', seq, '@example.com'), (seq * 7919 MOD 1000000) / 100,
        TIMESTAMP('2020-01-01') + INTERVAL seq * 7 MINUTE, seq MOD 10 <> 0, IF(seq MOD 4 = 0, NULL, REPEAT('note\\n', seq MOD 12))
      FROM seq_1_to_${Math.round(bigRows / 4)};
    CREATE TABLE attachments (
      id INT NOT NULL PRIMARY KEY, account_id INT NOT NULL, name VARCHAR(100), data BLOB NOT NULL,
      CONSTRAINT attachments_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ) ENGINE=InnoDB;
    INSERT INTO attachments
      SELECT seq, 1 + seq MOD 1000, CONCAT('file-', seq, '.bin'), UNHEX(REPEAT(MD5(seq), 16))
      FROM seq_1_to_${Math.round(bigRows / 40)};`;
}

async function benchmark() {
  if (!existsSync(path.join(repoRoot, "dist", "core", "db", "mysql", "index.js"))) {
    console.error("dist/ is missing: build first with `npx tsc -p tsconfig.build.json`.");
    process.exit(1);
  }
  const { startMariaDbServer } = await import("../test/support/mariadb-server.mjs");
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
  const bigRows = Math.max(10_000, Number(process.env.BENCH_MARIADB_ROWS ?? 2_000_000));
  const BARS = { throughputRatio: 0.8, rssGrowth: 1.25 };
  const server = await startMariaDbServer({ bufferPoolMb: 1024 });
  const summaryFile = path.join(os.tmpdir(), `bench-mariadb-summary-${process.pid}.json`);

  const ours = (database) =>
    measureCommand(process.execPath, [thisScript, CHILD_FLAG, "/dev/null", summaryFile], {
      env: { APP_BACKUP_BENCH_MARIADB: server.connectionString(database) },
    });
  const mariadbDump = (database) =>
    measureCommand("mariadb-dump", ["--no-defaults", "--single-transaction", "-h", "127.0.0.1", "-P", String(server.port), "-u", server.user, "--skip-ssl", `--result-file=/dev/null`, database], {
      env: { MYSQL_PWD: server.password },
    });

  let failed = false;
  try {
    const generated = performance.now();
    await server.sql(`CREATE DATABASE bench_big; CREATE DATABASE bench_small; GRANT ALL ON *.* TO '${server.user}'@'%';`);
    await server.sql(`SET SESSION unique_checks = 0; ${eventsTable(bigRows)} ${otherTables(bigRows)}`, "bench_big");
    await server.sql(`SET SESSION unique_checks = 0; ${eventsTable(Math.round(bigRows / 10))}`, "bench_small");
    const version = (await server.sql("SELECT VERSION()")).trim();
    console.log(`MariaDB ${version}: generated databases in ${seconds(performance.now() - generated)}`);

    // One unmeasured run of each warms the server's cache for both.
    await ours("bench_big");
    await mariadbDump("bench_big");
    const { bytes, rows, tables } = JSON.parse(readFileSync(summaryFile, "utf8"));
    console.log(`bench_big: ${rows.toLocaleString("en")} rows in ${tables} tables, our dump ${mib(bytes)}`);

    const oursRuns = [];
    const theirRuns = [];
    for (let round = 1; round <= rounds; round++) {
      const a = await ours("bench_big");
      const b = await mariadbDump("bench_big");
      oursRuns.push(a);
      theirRuns.push(b);
      console.log(`  round ${round}: ours ${seconds(a.wallMs)} (${mib(a.peakRssBytes)} peak RSS), mariadb-dump ${seconds(b.wallMs)} (${mib(b.peakRssBytes)} peak RSS)`);
    }
    const oursMs = median(oursRuns.map((run) => run.wallMs));
    const theirMs = median(theirRuns.map((run) => run.wallMs));
    const ratio = theirMs / oursMs;
    const throughputPass = ratio >= BARS.throughputRatio;
    console.log(
      `throughput ours/mariadb-dump: ${ratio.toFixed(2)} (ours ${Math.round(rows / (oursMs / 1000)).toLocaleString("en")} rows/s, median ${seconds(oursMs)} vs ${seconds(theirMs)}; bar >= ${BARS.throughputRatio}) ${throughputPass ? "PASS" : "FAIL"}`,
    );

    const small = await ours("bench_small");
    const smallRows = JSON.parse(readFileSync(summaryFile, "utf8")).rows;
    const large = oursRuns.reduce((max, run) => Math.max(max, run.peakRssBytes), 0);
    const growth = large / small.peakRssBytes;
    const memoryPass = growth <= BARS.rssGrowth;
    console.log(
      `peak RSS: ${mib(small.peakRssBytes)} dumping a ${smallRows.toLocaleString("en")}-row table, ${mib(large)} dumping the same table 10× larger (+ ${(rows - bigRows).toLocaleString("en")} rows elsewhere); growth ${((growth - 1) * 100).toFixed(1)} % (bar <= ${Math.round((BARS.rssGrowth - 1) * 100)} %) ${memoryPass ? "PASS" : "FAIL"}`,
    );
    failed = !throughputPass || !memoryPass;
  } finally {
    rmSync(summaryFile, { force: true });
    await server.stop();
  }
  process.exit(failed ? 1 : 0);
}
