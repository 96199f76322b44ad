/**
 * PostgreSQL dump benchmark: our engine (over the pg driver) against `pg_dump -Fp` on the same
 * generated database, both as child processes, alternating, medians reported. Then peak memory:
 * two databases that differ only in the size of their biggest table (10×): dumping the larger one
 * must not need more than 25 % more peak RSS. Then a whole backup: `app-backup backup` (the CLI,
 * a fresh process) of a small home plus a database holding one large table, against
 * `pg_dump -Fc` of that database: at most 0.6× its wall time, at most 200 MB peak RSS.
 *
 *   npx tsc -p tsconfig.build.json && node scripts/build-cli.mjs && node bench/db-postgres.mjs
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_PG_ROWS (rows of the big table, default 2000000),
 * BENCH_PG_TABLE_MB (text size of the backup case's table, default 256), BENCH_LARGE=1 (that
 * table at 5 GB; needs about 10 GB free in the temp folder, checked first).
 * Starts and stops its own throwaway server (as the tests do). Exits 1 if a bar fails.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startPostgresServer } from "../test/support/postgres-server.mjs";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dumpScript = path.join(repoRoot, "bench", "lib", "db-postgres-dump.mjs");
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const bigRows = Math.max(10_000, Number(process.env.BENCH_PG_ROWS ?? 2_000_000));
const cli = path.join(repoRoot, "dist", "cli", "app-backup.mjs");
const tableMiB = process.env.BENCH_LARGE === "1" ? 5 * 1024 : Math.max(16, Number(process.env.BENCH_PG_TABLE_MB ?? 256));
const BARS = { throughputRatio: 0.8, rssGrowth: 1.25, backupVsPgDumpFc: 0.6, backupPeakRssMiB: 200 };

if (!existsSync(path.join(repoRoot, "dist", "core", "db", "postgres", "index.js")) || !existsSync(cli)) {
  console.error("dist/ is missing: build first with `npm run build`.");
  process.exit(1);
}

/** Typical application tables: ids, text, numeric, timestamptz, jsonb, uuid, bytea. */
function eventsTable(rows) {
  return `
    CREATE TABLE events (
      id bigint PRIMARY KEY, user_id integer NOT NULL, kind text NOT NULL, amount numeric(12, 2),
      at timestamptz NOT NULL, payload jsonb, ref uuid NOT NULL);
    INSERT INTO events
      SELECT g, g % 100000, (ARRAY['view', 'click', 'purchase', 'signup'])[1 + g % 4], (g % 100000) / 100.0,
        '2024-01-01'::timestamptz + g * interval '1 second', jsonb_build_object('page', '/p/' || (g % 5000), 'n', g, 'ok', g % 3 = 0),
        md5(g::text)::uuid
      FROM generate_series(1, ${rows}) g;`;
}

const OTHER_TABLES = `
  CREATE TABLE accounts (
    id integer PRIMARY KEY, name text NOT NULL, email text NOT NULL, balance numeric(14, 2) NOT NULL,
    created timestamptz NOT NULL, active boolean NOT NULL, notes text);
  INSERT INTO accounts
    SELECT g, 'Account holder ' || g, 'user' || g || '@example.com', (g::bigint * 7919 % 1000000) / 100.0,
      '2020-01-01'::timestamptz + g * interval '7 minutes', g % 10 <> 0, CASE WHEN g % 4 = 0 THEN NULL ELSE repeat('note ', g % 12) END
    FROM generate_series(1, ${Math.round(bigRows / 4)}) g;
  CREATE TABLE attachments (id integer PRIMARY KEY, account_id integer NOT NULL, name text, data bytea NOT NULL);
  INSERT INTO attachments
    SELECT g, 1 + g % 1000, 'file-' || g || '.bin', decode(repeat(md5(g::text), 16), 'hex')
    FROM generate_series(1, ${Math.round(bigRows / 40)}) g;
  CREATE INDEX events_user ON events (user_id);
  ALTER TABLE attachments ADD FOREIGN KEY (account_id) REFERENCES accounts (id);`;

async function run(database, statements, server) {
  const client = await server.client(database);
  try {
    await client.query(statements);
    await client.query("ANALYZE");
  } finally {
    await client.end();
  }
}

function ours(server, database, summaryFile) {
  return measureCommand(process.execPath, [dumpScript, "/dev/null", summaryFile], {
    env: { APP_BACKUP_BENCH_PG: server.connectionString(database, { sslmode: "disable" }) },
  });
}

function pgDump(server, database) {
  return measureCommand(path.join(server.binDir, "pg_dump"), ["-Fp", "-f", "/dev/null", "-h", "127.0.0.1", "-p", String(server.port), "-U", server.user, database], {
    env: { PGPASSWORD: server.password, PGSSLMODE: "disable" },
  });
}

/**
 * One table of mixed rows as an application keeps them: ids, names, emails, amounts, times, a
 * status, a jsonb document, a hex digest and a small binary value; repetitive enough to compress
 * like real data, varied enough not to be trivial.
 */
const LARGE_TABLE_SELECT = `
  SELECT g AS id, 'Customer ' || (g * 7919 % 200003) AS name, 'user' || (g * 31 % 1000003) || '@example.com' AS email,
    ((g * 7919) % 10000000) / 100.0 AS amount, '2023-01-01'::timestamptz + g * interval '3 seconds' AS created,
    (ARRAY['new', 'paid', 'shipped', 'delivered', 'returned'])[1 + g % 5] AS status,
    jsonb_build_object('page', '/shop/item/' || (g % 50000), 'qty', 1 + g % 7, 'tags', jsonb_build_array('t' || (g % 13), 't' || (g % 29)), 'gift', g % 11 = 0) AS details,
    md5(g::text) AS digest, decode(substr(md5((g / 3)::text), 1, 16), 'hex') AS token
  FROM generate_series(1::bigint, %ROWS%) g`;

/** Rows for about `mib` MiB of dump text, measured on a sample of the same rows. */
async function largeTableRows(server, database, mib) {
  const client = await server.client(database);
  try {
    const { rows } = await client.query(`SELECT sum(octet_length(t::text)) AS bytes FROM (${LARGE_TABLE_SELECT.replace("%ROWS%", "10000")}) t`);
    return Math.round((mib * 1024 * 1024) / (Number(rows[0].bytes) / 10000));
  } finally {
    await client.end();
  }
}

/** Free bytes on the file system holding `folder`. */
function freeBytes(folder) {
  const stats = statfsSync(folder);
  return stats.bavail * stats.bsize;
}

async function backupCase(server) {
  // The table on disk (~1.3× its text), one pg_dump -Fc file and one zip (each ~0.3×), with room to spare.
  const needed = tableMiB * 1024 * 1024 * 2;
  const free = freeBytes(os.tmpdir());
  if (free < needed) {
    console.log(`SKIP backup with a ${mib(tableMiB * 1024 * 1024)} table: it needs about ${mib(needed)} free in ${os.tmpdir()}, ${mib(free)} is`);
    return true;
  }
  const work = mkdtempSync(path.join(os.tmpdir(), "bench-pg-backup-"));
  try {
    const generated = performance.now();
    await server.createDatabase("bench_backup");
    const rowCount = await largeTableRows(server, "bench_backup", tableMiB);
    // Created by the statement that fills it: with wal_level minimal, nothing goes through the WAL.
    await run("bench_backup", `CREATE TABLE orders AS ${LARGE_TABLE_SELECT.replace("%ROWS%", String(rowCount))}; ALTER TABLE orders ADD PRIMARY KEY (id); ANALYZE orders;`, server);
    const size = await server.adminQuery("SELECT pg_catalog.pg_total_relation_size('orders') AS bytes", "bench_backup");
    console.log(`backup case: orders table of ${rowCount.toLocaleString("en")} rows, ${mib(Number(size.rows[0].bytes))} on disk, generated in ${seconds(performance.now() - generated)}`);

    const home = path.join(work, "home");
    mkdirSync(path.join(home, "site", "wwwroot"), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(path.join(home, "site", "wwwroot", `page-${i}.html`), `<h1>page ${i}</h1>\n`.repeat(200));
    const container = path.join(work, "container");
    const config = path.join(work, "app-backup.yml");
    writeFileSync(
      config,
      `name: bench\nhome: ${JSON.stringify(home)}\nconnectionStrings:\n  MainDb: { type: PostgreSQL, value: "\${env:MAIN_DB}" }\n` +
        `backup:\n  storage: ${JSON.stringify(`file:${container}`)}\n  maxSize: 1TB\n  databaseMaxSize: 1TB\n  databases:\n    - { connectionStringName: MainDb, databaseType: PostgreSql }\n`,
    );
    const env = { MAIN_DB: server.connectionString("bench_backup", { sslmode: "disable" }) };
    const pgDumpFile = path.join(work, "pg_dump.custom");
    const ourBackup = async () => {
      rmSync(container, { recursive: true, force: true });
      const result = await measureCommand(process.execPath, [cli, "backup", "--config", config, "--name", "bench_pg", "--json"], { env, captureStdout: true });
      const report = JSON.parse(result.stdout);
      if (report.status !== "Succeeded") throw new Error(`app-backup backup ended ${report.status}`);
      return { ...result, dumpBytes: report.databases[0].sizeBytes, zipBytes: sizeOf(path.join(container, "bench_pg.zip")) };
    };
    const pgDumpFc = async () => {
      const result = await measureCommand(path.join(server.binDir, "pg_dump"), ["-Fc", "-f", pgDumpFile, "-h", "127.0.0.1", "-p", String(server.port), "-U", server.user, "bench_backup"], {
        env: { PGPASSWORD: server.password, PGSSLMODE: "disable" },
      });
      return { ...result, fileBytes: sizeOf(pgDumpFile) };
    };

    const oursRuns = [];
    const peerRuns = [];
    for (let round = 1; round <= rounds; round++) {
      // Alternate who goes first so the page cache and neighbours' load favour neither.
      const order = round % 2 === 1 ? ["pg_dump", "ours"] : ["ours", "pg_dump"];
      for (const who of order) {
        if (who === "ours") oursRuns.push(await ourBackup());
        else peerRuns.push(await pgDumpFc());
      }
      const a = oursRuns.at(-1);
      const b = peerRuns.at(-1);
      console.log(
        `  round ${round}: backup ${seconds(a.wallMs)} (${mib(a.peakRssBytes)} peak RSS, CPU ${(a.cpuMs / a.wallMs).toFixed(2)}× wall, zip ${mib(a.zipBytes)}), ` +
          `pg_dump -Fc ${seconds(b.wallMs)} (${mib(b.peakRssBytes)}, CPU ${(b.cpuMs / b.wallMs).toFixed(2)}× wall, ${mib(b.fileBytes)})`,
      );
    }
    const oursMs = median(oursRuns.map((r) => r.wallMs));
    const peerMs = median(peerRuns.map((r) => r.wallMs));
    const ratio = oursMs / peerMs;
    const peak = Math.max(...oursRuns.map((r) => r.peakRssBytes));
    const timePass = ratio <= BARS.backupVsPgDumpFc;
    const memoryPass = peak <= BARS.backupPeakRssMiB * 1024 * 1024;
    console.log(`dump text ${mib(oursRuns[0].dumpBytes)}; median CPU of the backup ${(median(oursRuns.map((r) => r.cpuMs / r.wallMs))).toFixed(2)}× wall`);
    console.log(`backup with a ${mib(oursRuns[0].dumpBytes)} table / pg_dump -Fc: ${ratio.toFixed(2)} (median ${seconds(oursMs)} vs ${seconds(peerMs)}; bar <= ${BARS.backupVsPgDumpFc}) ${timePass ? "PASS" : "FAIL"}`);
    console.log(`peak RSS of that backup: ${mib(peak)} (bar <= ${BARS.backupPeakRssMiB} MiB) ${memoryPass ? "PASS" : "FAIL"}`);
    return timePass && memoryPass;
  } finally {
    rmSync(work, { recursive: true, force: true });
    await server.dropDatabase("bench_backup").catch(() => {});
  }
}

function sizeOf(file) {
  return existsSync(file) ? statSync(file).size : 0;
}

// wal_level minimal: the large table is written once, not twice (no replication here).
const server = await startPostgresServer({ settings: { shared_buffers: "256MB", wal_level: "minimal", max_wal_senders: "0" } });
let failed = false;
try {
  const summaryFile = path.join(os.tmpdir(), `bench-pg-summary-${process.pid}.json`);
  const generated = performance.now();
  await server.createDatabase("bench_big");
  await run("bench_big", eventsTable(bigRows) + OTHER_TABLES, server);
  await server.createDatabase("bench_small");
  await run("bench_small", eventsTable(Math.round(bigRows / 10)) + OTHER_TABLES, server);
  console.log(`PostgreSQL ${server.binDir.split("/").at(-2)}: generated databases in ${seconds(performance.now() - generated)}`);

  // One unmeasured run of each warms the server's cache for both.
  await ours(server, "bench_big", summaryFile);
  await pgDump(server, "bench_big");
  const { bytes, rows } = JSON.parse(readFileSync(summaryFile, "utf8"));
  console.log(`bench_big: ${rows.toLocaleString("en")} rows in 3 tables, our dump ${mib(bytes)}`);

  const oursRuns = [];
  const pgDumpRuns = [];
  for (let round = 1; round <= rounds; round++) {
    const a = await ours(server, "bench_big", summaryFile);
    const b = await pgDump(server, "bench_big");
    oursRuns.push(a);
    pgDumpRuns.push(b);
    console.log(`  round ${round}: ours ${seconds(a.wallMs)} (${mib(a.peakRssBytes)} peak RSS), pg_dump ${seconds(b.wallMs)} (${mib(b.peakRssBytes)} peak RSS)`);
  }
  const oursMs = median(oursRuns.map((r) => r.wallMs));
  const pgDumpMs = median(pgDumpRuns.map((r) => r.wallMs));
  const ratio = pgDumpMs / oursMs;
  const throughputPass = ratio >= BARS.throughputRatio;
  console.log(`throughput ours/pg_dump: ${ratio.toFixed(2)} (ours ${(bytes / 1024 / 1024 / (oursMs / 1000)).toFixed(1)} MiB/s, median ${seconds(oursMs)} vs ${seconds(pgDumpMs)}; bar >= ${BARS.throughputRatio}) ${throughputPass ? "PASS" : "FAIL"}`);

  const smallRuns = [];
  for (let round = 1; round <= rounds; round++) smallRuns.push(await ours(server, "bench_small", summaryFile));
  const small = Math.max(...smallRuns.map((r) => r.peakRssBytes));
  const large = Math.max(...oursRuns.map((r) => r.peakRssBytes));
  const growth = large / small;
  const memoryPass = growth <= BARS.rssGrowth;
  console.log(`peak RSS of our dump: ${mib(small)} with a ${Math.round(bigRows / 10).toLocaleString("en")}-row events table, ${mib(large)} with it 10× larger (${bigRows.toLocaleString("en")} rows; other tables the same); growth ${((growth - 1) * 100).toFixed(1)} % (bar <= ${Math.round((BARS.rssGrowth - 1) * 100)} %) ${memoryPass ? "PASS" : "FAIL"}`);
  failed = !throughputPass || !memoryPass;
  rmSync(summaryFile, { force: true });
  await server.dropDatabase("bench_big");
  await server.dropDatabase("bench_small");
  if (!(await backupCase(server))) failed = true;
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
