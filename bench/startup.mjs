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
 * The CLI keeps a code cache of each command's first successful run (see
 * cli/code-cache.ts) in a folder of its own; the rounds run with it, as a user's
 * second and later runs do. Beside them: the same commands with every cache
 * turned off (NODE_DISABLE_COMPILE_CACHE=1), what a first run costs, and the
 * number of the program's modules each command runs (from V8's coverage).
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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { moduleRecordingHook, modulesRun } from "../test/support/module-record.mjs";
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
const uncached = runs(commands.length);
for (let round = 0; round < rounds; round++) {
  for (const [index, command] of commands.entries()) {
    uncached[index].push(await measureCommand(process.execPath, [cli, ...command.args()], { env: { NODE_DISABLE_COMPILE_CACHE: "1" } }));
  }
}
const modulesPerCommand = [];
for (const command of commands) modulesPerCommand.push(await modulesRunBy(command.args()));

/** Median wall and CPU time (user + system) of some runs, in seconds. */
const wall = (measured) => seconds(median(measured.map((m) => m.wallMs)));
const cpu = (measured) => seconds(median(measured.map((m) => m.cpuMs)));
const times = (measured) => `${wall(measured).padStart(7)} ${cpu(measured).padStart(7)}`;
log(`CLI start-up, median of ${rounds} fresh processes each (node ${process.version}), wall and CPU time (user + system)`);
log(`\`node -e 0\` in the same rounds: ${wall(floorRuns)} wall, ${cpu(floorRuns)} CPU`);
log(`${"".padEnd(15)} ${"wall".padStart(7)} ${"cpu".padStart(7)}  ${"floor".padStart(7)}  ${"no cache: wall".padStart(14)} ${"cpu".padStart(7)}  ${"modules run".padEnd(12)} bar: wall <= ${BAR_SECONDS} s`);
let failed = false;
for (const [index, command] of commands.entries()) {
  const wallMs = median(commandRuns[index].map((m) => m.wallMs));
  const modules = modulesPerCommand[index] === undefined ? "n/a" : String(modulesPerCommand[index]);
  const pass = wallMs / 1000 <= BAR_SECONDS;
  if (!pass) failed = true;
  log(
    `${command.name.padEnd(15)} ${times(commandRuns[index])}  ${wall(floorRuns).padStart(7)}  ${times(uncached[index]).padStart(22)}  ${modules.padEnd(12)} ${pass ? "PASS" : "FAIL"} (${command.name}: ${seconds(wallMs)} <= ${BAR_SECONDS} s)`,
  );
}

if (process.env.BENCH_STARTUP_PG !== "0") await postgresComparison();
process.exit(failed ? 1 : 0);

/**
 * How many of the bundle's modules a command runs, as V8's coverage and a
 * resolve hook see them; undefined where Node has no synchronous module hooks.
 */
async function modulesRunBy(args) {
  const record = path.join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const coverage = `${record}.coverage`;
  const run = spawnSync(process.execPath, ["--import", moduleRecordingHook(record), cli, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NODE_V8_COVERAGE: coverage },
  });
  if (run.status !== 0 || !existsSync(record)) return undefined;
  return new Set(await modulesRun(readFileSync(record, "utf8").split("\n"), coverage, path.dirname(cli))).size;
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
