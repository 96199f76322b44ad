/**
 * Start-up benchmark: the fixed cost of one CLI run. Each command runs as a fresh
 * process (`node dist/cli/app-backup.mjs ...`) on a tiny app (a 12-byte home,
 * described by flags, backed up into a local folder), alternating with `node -e 0`,
 * the floor any Node program pays, in the same rounds; medians reported. Bar: each
 * command's wall time <= 0.15 s (ours, floor included; the floor is printed beside it).
 *
 * Wall times are printed with the CPU time (user + system) of the same runs: on
 * a machine others share, CPU time says more about what a run costs.
 *
 * For each command it also prints what it loads: the bundle's files (entry and
 * chunks) the run imported, their size, and the times of a process that only
 * imports them (loading and evaluating the modules, doing no work): the share
 * of module loading in the command's time.
 *
 * Then, when PostgreSQL is installed, a backup of a tiny database against
 * `pg_dump -Fc` of the same database (no bar: what a database adds to a run).
 *
 *   npm run build && node bench/startup.mjs
 *
 * Environment: BENCH_ROUNDS (default 7); BENCH_STARTUP_PG=0 leaves out the
 * PostgreSQL part; BENCH_STARTUP_CLI=FILE measures another build of the CLI
 * (an older one kept aside, to compare). Exits 1 if a bar fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { moduleRecordingHook } from "../test/support/module-record.mjs";
import { measureCommand, median, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.resolve(process.env.BENCH_STARTUP_CLI ?? path.join(repoRoot, "dist", "cli", "app-backup.mjs"));
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 7));
const BAR_SECONDS = 0.15;
const log = (message) => console.log(message);

if (!existsSync(cli)) {
  console.error(`${cli} is missing: build first with \`npm run build\`.`);
  process.exit(1);
}

const dir = mkdtempSync(path.join(os.tmpdir(), "app-backup-bench-startup-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const home = path.join(dir, "home");
mkdirSync(home);
writeFileSync(path.join(home, "index.html"), "hello world\n");
const app = ["--app", "tiny", "--storage", `file:${path.join(dir, "backups")}`];

const commands = [
  { name: "--version", args: () => ["--version"] },
  { name: "--help", args: () => ["--help"] },
  { name: "backup", args: () => ["backup", ...app, "--home", home] },
  { name: "list", args: () => ["list", ...app] },
  { name: "show latest", args: () => ["show", "latest", ...app] },
  { name: "verify latest", args: () => ["verify", "latest", ...app] },
  { name: "restore --yes", args: () => ["restore", "latest", ...app, "--home", home, "--yes"] },
];

const runs = (count) => Array.from({ length: count }, () => []);
const floorRuns = [];
const commandRuns = runs(commands.length);
// The commands after `backup` need a backup to work on.
await measureCommand(process.execPath, [cli, ...commands[2].args()]);
for (let round = 0; round < rounds; round++) {
  floorRuns.push(await measureCommand(process.execPath, ["-e", "0"]));
  for (const [index, command] of commands.entries()) commandRuns[index].push(await measureCommand(process.execPath, [cli, ...command.args()]));
}
const loads = commands.map((command) => modulesLoadedBy(command.args()));
const importRuns = runs(commands.length);
for (let round = 0; round < rounds; round++) {
  for (const [index, load] of loads.entries()) if (load) importRuns[index].push(await measureCommand(process.execPath, importOnly(load.files)));
}

/** Median wall and CPU time (user + system) of some runs, in seconds. */
const wall = (measured) => seconds(median(measured.map((m) => m.wallMs)));
const cpu = (measured) => seconds(median(measured.map((m) => m.cpuMs)));
const times = (measured) => `${wall(measured).padStart(7)} ${cpu(measured).padStart(7)}`;
log(`CLI start-up, median of ${rounds} fresh processes each (node ${process.version}), wall and CPU time (user + system)`);
log(`\`node -e 0\` in the same rounds: ${wall(floorRuns)} wall, ${cpu(floorRuns)} CPU`);
log(`${"".padEnd(15)} ${"wall".padStart(7)} ${"cpu".padStart(7)}  ${"floor".padStart(7)}  ${"modules loaded".padEnd(26)} ${"import only: wall".padStart(17)} ${"cpu".padStart(7)}  bar: wall <= ${BAR_SECONDS} s`);
let failed = false;
for (const [index, command] of commands.entries()) {
  const wallMs = median(commandRuns[index].map((m) => m.wallMs));
  const load = loads[index];
  const loaded = load ? `${load.files.length} files, ${(load.bytes / 1024).toFixed(0)} KiB` : "n/a (needs node >= 22.15)";
  const importTimes = load ? times(importRuns[index]) : `${"n/a".padStart(7)} ${"n/a".padStart(7)}`;
  const pass = wallMs / 1000 <= BAR_SECONDS;
  if (!pass) failed = true;
  log(
    `${command.name.padEnd(15)} ${times(commandRuns[index])}  ${wall(floorRuns).padStart(7)}  ${loaded.padEnd(26)} ${importTimes.padStart(17)}  ${pass ? "PASS" : "FAIL"} (${command.name}: ${seconds(wallMs)} <= ${BAR_SECONDS} s)`,
  );
}

if (process.env.BENCH_STARTUP_PG !== "0") await postgresComparison();
process.exit(failed ? 1 : 0);

/**
 * The bundle's files a command imports, statically or when it runs, as a resolve
 * hook sees them; undefined where Node has no synchronous module hooks.
 */
function modulesLoadedBy(args) {
  const record = path.join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const run = spawnSync(process.execPath, ["--import", moduleRecordingHook(record), cli, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  if (run.status !== 0 || !existsSync(record)) return undefined;
  const bundle = pathToFileURL(path.dirname(cli)).href;
  const files = [...new Set(readFileSync(record, "utf8").trim().split("\n"))].filter((url) => url.startsWith(bundle)).map((url) => fileURLToPath(url));
  return { files, bytes: files.reduce((sum, file) => sum + statSync(file).size, 0) };
}

/**
 * A process that imports these files and does nothing else. The entry runs the
 * CLI when imported: it is given `--version`, the command that does no work.
 */
function importOnly(files) {
  const source = files.map((file) => `await import(${JSON.stringify(pathToFileURL(file).href)});`).join("\n");
  return ["--input-type=module", "-e", `process.argv.splice(1, Infinity, "app-backup", "--version"); ${source}`];
}

/** A backup of a tiny PostgreSQL database against `pg_dump -Fc` of it, as fresh processes, alternating. */
async function postgresComparison() {
  const { findPostgresBinDir, startPostgresServer } = await import("../test/support/postgres-server.mjs");
  try {
    findPostgresBinDir();
  } catch (error) {
    log(`\nPostgreSQL: skipped (${error.message})`);
    return;
  }
  const server = await startPostgresServer();
  try {
    const database = await server.createDatabase("tiny");
    const client = await server.client(database);
    await client.query("CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL); INSERT INTO notes VALUES (1, 'hello'), (2, 'world');");
    await client.end();
    const withDatabase = ["--database", `MainDb=PostgreSql:${server.connectionString(database, { sslmode: "disable" })}`];
    const ours = [];
    const theirs = [];
    for (let round = 0; round < rounds; round++) {
      ours.push((await measureCommand(process.execPath, [cli, "backup", ...app, "--home", home, ...withDatabase])).wallMs);
      theirs.push(
        (
          await measureCommand(path.join(server.binDir, "pg_dump"), ["-Fc", "-f", path.join(dir, "tiny.dump"), "-h", "127.0.0.1", "-p", String(server.port), "-U", server.user, database], {
            env: { PGPASSWORD: server.password, PGSSLMODE: "disable" },
          })
        ).wallMs,
      );
    }
    log(`\nTiny PostgreSQL database (1 table, 2 rows), median of ${rounds}:`);
    log(`  backup with the database: ${seconds(median(ours))}   pg_dump -Fc: ${seconds(median(theirs))}   ratio ${(median(ours) / median(theirs)).toFixed(2)} (no bar)`);
  } finally {
    await server.stop();
  }
}
