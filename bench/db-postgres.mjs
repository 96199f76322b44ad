/**
 * PostgreSQL dump benchmark: our engine (over the pg driver) against `pg_dump -Fp` on the same
 * generated database, both as child processes, alternating, medians reported. Then peak memory:
 * two databases that differ only in the size of their biggest table (10×): dumping the larger one
 * must not need more than 25 % more peak RSS.
 *
 *   npx tsc -p tsconfig.build.json && node bench/db-postgres.mjs
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_PG_ROWS (rows of the big table, default 2000000).
 * Starts and stops its own throwaway server (as the tests do). Exits 1 if a bar fails.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startPostgresServer } from "../test/support/postgres-server.mjs";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dumpScript = path.join(repoRoot, "bench", "lib", "db-postgres-dump.mjs");
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const bigRows = Math.max(10_000, Number(process.env.BENCH_PG_ROWS ?? 2_000_000));
const BARS = { throughputRatio: 0.8, rssGrowth: 1.25 };

if (!existsSync(path.join(repoRoot, "dist", "core", "db", "postgres", "index.js"))) {
  console.error("dist/ is missing: build first with `npx tsc -p tsconfig.build.json`.");
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

const server = await startPostgresServer({ settings: { shared_buffers: "256MB" } });
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
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
