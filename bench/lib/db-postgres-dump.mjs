/**
 * Child process for bench/db-postgres.mjs: dumps one database with our engine (from dist/) so
 * that its wall time and peak RSS are measured like pg_dump's.
 *
 *   APP_BACKUP_BENCH_PG=<connection string> node bench/lib/db-postgres-dump.mjs <out file> [<summary json file>]
 */
import { createWriteStream, writeFileSync } from "node:fs";
import { postgresEngine } from "../../dist/core/db/postgres/index.js";

const [outFile, summaryFile] = process.argv.slice(2);
const connectionString = process.env.APP_BACKUP_BENCH_PG;
if (!outFile || !connectionString) {
  console.error("usage: APP_BACKUP_BENCH_PG=<connection string> node bench/lib/db-postgres-dump.mjs <out file> [<summary json>]");
  process.exit(2);
}
let bytes = 0;
const file = createWriteStream(outFile);
const originalWrite = file.write.bind(file);
file.write = (chunk, ...rest) => {
  bytes += chunk.length;
  return originalWrite(chunk, ...rest);
};
const summary = await postgresEngine.dump(connectionString, file);
if (summaryFile) writeFileSync(summaryFile, JSON.stringify({ bytes, rows: summary.tables.reduce((n, t) => n + t.rows, 0) }));
