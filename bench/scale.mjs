/**
 * Scale benchmark: what a user runs (`node dist/cli/app-backup.mjs ...`, a fresh process per
 * command, a local folder container) on trees of many small files, against the peer tools on the
 * same tree in the same run, alternating who goes first, medians of the rounds reported:
 *
 *   - backup vs `zip -qry -6` (run in the tree; -y stores links as links, as we do) and
 *     `restic backup --no-cache -q` (restic 0.17.3, a fresh repository per round, made outside the
 *     timing). Restic deduplicates and encrypts into its repository; we compress into one zip.
 *   - restore into an empty folder vs `unzip -q`, and over the existing home (the tree as it was,
 *     with a few files changed, deleted and added) vs `unzip -o -q`, of the same zip, on BENCH_DIR.
 *   - peak RSS (GNU time) of every command, and of backup --dry-run, verify, verify --read-data and
 *     restore --dry-run, side by side across the tree sizes: memory must be flat.
 *
 * Trees: "42k" is a copy of this checkout's node_modules (a real app: ~42k files after `npm ci`,
 * with big compressible files among them); "100k", "250k" and "1M" are generated, seeded trees of
 * 1-4 KiB source-like text files, ~500 per folder (bench/lib/scale-tree.mjs), cached under
 * BENCH_TREE_DIR. 1M runs only if its file systems have room (it says what it needs), one round.
 *
 *   npm run build && node bench/scale.mjs
 *
 * Environment: BENCH_SCALE_SIZES (default 42k,100k,250k,1M), BENCH_ROUNDS (default 3),
 * BENCH_SCALE_PARTS (default backup,restore,memory), BENCH_DIR (default /dev/shm/app-backup-bench-scale:
 * containers, zips and restored homes), BENCH_TREE_DIR (default .cache/bench), BENCH_KEEP_TREES=0
 * to delete the generated trees afterwards, BENCH_SCALE_PEERS=0 to run our commands alone (memory
 * figures only), BENCH_LARGE=1 to run the ~20 GB benchmark (bench/large.mjs) afterwards.
 * Exits 1 if a bar fails.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync, lstatSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { snapshotCli } from "./lib/cli-snapshot.mjs";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";
import { checkRoom } from "./lib/room.mjs";
import { ensureNodeModulesTree, ensureSmallFileTree, SMALL_FILE_FOOTPRINT } from "./lib/scale-tree.mjs";
import { compareTrees } from "./lib/tree-compare.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = snapshotCli(repoRoot);
const treeDir = path.resolve(process.env.BENCH_TREE_DIR ?? path.join(repoRoot, ".cache", "bench"));
const workDir = path.resolve(process.env.BENCH_DIR ?? "/dev/shm/app-backup-bench-scale");
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const keepTrees = process.env.BENCH_KEEP_TREES !== "0";
/** BENCH_SCALE_PEERS=0 runs our commands alone: for memory figures when the peers' times are not wanted. */
const withPeers = process.env.BENCH_SCALE_PEERS !== "0";
const DEFAULT_SIZES = ["42k", "100k", "250k", "1M"];
const sizes = (process.env.BENCH_SCALE_SIZES ?? DEFAULT_SIZES.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
/** "42k" is the checkout's node_modules; any other size ("20k", "250k", "1M", "5000") a generated tree of that many files. */
const SIZES = Object.fromEntries(
  sizes.map((size) => {
    if (size === "42k") return [size, "node_modules"];
    const match = /^(\d+)(k|M)?$/.exec(size);
    return [size, match ? Number(match[1]) * (match[2] === "M" ? 1e6 : match[2] === "k" ? 1e3 : 1) : undefined];
  }),
);
const parts = new Set((process.env.BENCH_SCALE_PARTS ?? "backup,restore,memory").split(",").map((s) => s.trim()));
/** Time ratios are barred on these trees; the others report them for information. */
const TIMED_SIZES = new Set(["42k", "250k"]);
const BARS = { backupVsZip: 0.5, backupVsRestic: 1.0, sizeVsZip: 1.05, restoreEmptyVsUnzip: 0.6, restoreOverVsUnzip: 0.8, peakRssBytes: 200e6 };
const RESTIC_PASSWORD = "app-backup-bench";
const BACKUP_NAME = "bench_scale";
/** No single command of a benchmark should take this long; if one does, it is stopped and reported. */
const COMMAND_CAP_MS = 60 * 60_000;
const log = (message) => console.log(message);

for (const size of sizes) {
  if (!SIZES[size]) {
    console.error(`Unknown tree size "${size}" in BENCH_SCALE_SIZES; use 42k (node_modules) or a file count such as 100k, 250k, 1M.`);
    process.exit(2);
  }
}
for (const part of parts) {
  if (!["backup", "restore", "memory"].includes(part)) {
    console.error(`Unknown part "${part}" in BENCH_SCALE_PARTS; choose from backup, restore, memory.`);
    process.exit(2);
  }
}

const run = (command, args, options = {}) => measureCommand(command, args, { timeoutMs: COMMAND_CAP_MS, ...options });
const ourCli = (args) => run(process.execPath, [cli, ...args]);
const rmTree = (dir) => execFileSync("rm", ["-rf", dir]);

/** restic from scripts/fetch-restic.sh (built once with Go), or the reason there is none. */
function findRestic() {
  try {
    const out = execFileSync(path.join(repoRoot, "scripts", "fetch-restic.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    return { restic: out.trim().split("\n").pop() };
  } catch {
    return { reason: "restic is not available: scripts/fetch-restic.sh builds it with Go (install Go 1.22+ and run it)" };
  }
}

/**
 * A few changes a user's home sees between a backup and a restore, made the same way on every
 * copy: every 997th file edited, every 1999th deleted, a new folder of 20 files. Files are taken
 * in sorted order so two equal homes get the same changes.
 */
function changeHome(home) {
  let count = 0;
  const visit = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const stats = lstatSync(file);
      if (stats.isDirectory()) visit(file);
      else if (stats.isFile()) {
        count++;
        if (count % 1999 === 0) unlinkSync(file);
        else if (count % 997 === 0) appendFileSync(file, "\n// edited after the backup\n");
      }
    }
  };
  visit(home);
  const added = path.join(home, "added-after-backup");
  mkdirSync(added, { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(added, `new-${i}.js`), `export const added${i} = ${i};\n`);
}

function writeConfig(file, home, container) {
  writeFileSync(file, `name: bench\nhome: ${JSON.stringify(home)}\nbackup:\n  storage: ${JSON.stringify(`file:${container}`)}\n`);
  return file;
}

/** Rotates `who` by the round, so that page cache and neighbour load favour no one. */
const rotate = (who, round) => who.map((_, i) => who[(i + round) % who.length]);

/** What a failed command said: its "error:" line, or the start of its message. */
const failureOf = (error) => String(error.stderr ?? "").split("\n").find((line) => line.startsWith("error:")) ?? String(error.message).slice(0, 300);

/** Measures one tree into `results` (filled as it goes, so that a failure keeps what was measured). */
async function benchTree(size, tree, restic, results) {
  // One round is enough where only memory is barred.
  const roundsHere = SIZES[size] >= 1e6 ? 1 : rounds;
  const dir = path.join(workDir, size);
  rmTree(dir);
  mkdirSync(dir, { recursive: true });
  const container = path.join(dir, "container");
  const sourceConfig = writeConfig(path.join(dir, "source.yml"), tree.root, container);
  const home = path.join(dir, "home");
  const targetConfig = writeConfig(path.join(dir, "target.yml"), home, container);
  const ourZip = path.join(container, `${BACKUP_NAME}.zip`);
  const peerZip = path.join(dir, "zip.zip");
  const resticRepo = path.join(dir, "restic");
  const record = (id, result) => (results[id] ??= []).push(result);
  // A command that only reports (a dry run, a verify) failing is a finding, not the end of the run.
  const reportOnly = async (round, id, args) => {
    try {
      const result = await ourCli(args);
      record(id, result);
      say(round, LABELS[id], result);
    } catch (error) {
      results.failures.push(`${LABELS[id]} failed (exit ${error.exitCode ?? "?"}): ${failureOf(error)}`);
      log(`  round ${round + 1} ${LABELS[id]} FAILED: ${failureOf(error)}`);
    }
  };
  const say = (round, id, result, extra = "") =>
    log(`  round ${round + 1} ${id.padEnd(22)} ${seconds(result.wallMs).padStart(9)}  cpu ${seconds(result.cpuMs).padStart(9)}  peak RSS ${mib(result.peakRssBytes).padStart(10)}${extra}`);
  const backupWithOurs = () => {
    rmTree(container);
    return ourCli(["backup", "--config", sourceConfig, "--name", BACKUP_NAME, "--json"]);
  };
  if (!parts.has("backup")) {
    log(`  making the backup to restore from (not timed)...`);
    await backupWithOurs();
  }

  if (parts.has("backup")) {
    // Into the page cache before round 1, untimed: otherwise whoever goes first in it reads the tree from disk
    // (measured: our backup of node_modules 21.3 s in a cold round 1, 7.7-8.6 s in the next).
    log(`  reading the tree once, untimed...`);
    execFileSync("sh", ["-c", "tar -cf - . | cat > /dev/null"], { cwd: tree.root, stdio: "ignore" });
  }
  for (let round = 0; round < roundsHere; round++) {
    if (parts.has("backup")) {
      const who = ["ours", ...(withPeers ? ["zip"] : []), ...(withPeers && restic.restic ? ["restic"] : [])];
      for (const tool of rotate(who, round)) {
        if (tool === "ours") {
          const result = await backupWithOurs();
          result.size = statSync(ourZip).size;
          record("backup", result);
          say(round, "backup", result, `  ${mib(result.size)}`);
        } else if (tool === "zip") {
          rmSync(peerZip, { force: true });
          const result = await run("zip", ["-qry", "-6", peerZip, "."], { cwd: tree.root });
          result.size = statSync(peerZip).size;
          record("zip", result);
          say(round, "zip -qry -6", result, `  ${mib(result.size)}`);
          rmSync(peerZip, { force: true });
        } else {
          rmTree(resticRepo);
          const env = { RESTIC_PASSWORD };
          execFileSync(restic.restic, ["-r", resticRepo, "init", "-q"], { env: { ...process.env, ...env }, stdio: "ignore" });
          const result = await run(restic.restic, ["-r", resticRepo, "backup", "--no-cache", "-q", tree.root], { env });
          record("restic", result);
          say(round, "restic backup", result);
          rmTree(resticRepo);
        }
      }
    }
    if (parts.has("restore")) {
      const lastRound = round === roundsHere - 1;
      for (const tool of rotate(withPeers ? ["ours", "unzip"] : ["ours"], round)) {
        rmTree(home);
        mkdirSync(home, { recursive: true });
        const empty = tool === "ours" ? await ourCli(["restore", BACKUP_NAME, "--config", targetConfig]) : await run("unzip", ["-q", ourZip, "-d", home]);
        record(`${tool}-empty`, empty);
        say(round, tool === "ours" ? "restore (empty)" : "unzip -q (empty)", empty);
        changeHome(home);
        if (tool === "ours" && lastRound && parts.has("memory")) {
          await reportOnly(round, "restore-dry-run", ["restore", BACKUP_NAME, "--config", targetConfig, "--dry-run"]);
        }
        const over = tool === "ours" ? await ourCli(["restore", BACKUP_NAME, "--config", targetConfig]) : await run("unzip", ["-o", "-q", ourZip, "-d", home]);
        record(`${tool}-over`, over);
        say(round, tool === "ours" ? "restore (over home)" : "unzip -o -q (over)", over);
        if (tool === "ours" && lastRound) {
          const { compared, differences, problems } = compareTrees(tree.root, home);
          results.content = { compared, differences, problems };
          log(`  restored home ${differences === 0 ? `equals the tree (${compared.toLocaleString("en")} paths: content, modes, mtimes, links)` : `differs from the tree in ${differences} paths, e.g. ${problems.join("; ")}`}`);
        }
      }
      rmTree(home);
    }
  }

  if (parts.has("memory")) {
    for (const [id, args] of [
      ["backup-dry-run", ["backup", "--config", sourceConfig, "--dry-run"]],
      ["verify", ["verify", BACKUP_NAME, "--config", sourceConfig]],
      ["verify-read-data", ["verify", BACKUP_NAME, "--config", sourceConfig, "--read-data"]],
    ]) {
      await reportOnly(roundsHere - 1, id, args);
    }
  }
  rmTree(dir);
}

const LABELS = {
  backup: "backup",
  zip: "zip -qry -6",
  restic: "restic backup --no-cache",
  "ours-empty": "restore (empty folder)",
  "unzip-empty": "unzip -q (empty folder)",
  "ours-over": "restore (over the home)",
  "unzip-over": "unzip -o -q (over the home)",
  "backup-dry-run": "backup --dry-run",
  verify: "verify",
  "verify-read-data": "verify --read-data",
  "restore-dry-run": "restore --dry-run",
};
/** Our commands, whose peak RSS is barred. */
const OURS = ["backup", "ours-empty", "ours-over", "backup-dry-run", "verify", "verify-read-data", "restore-dry-run"];

/** Median of the per-round ratios: each round runs both back to back, under one level of neighbour load. */
function ratio(results, ours, peer) {
  const a = results[ours];
  const b = results[peer];
  const count = Math.min(a?.length ?? 0, b?.length ?? 0);
  if (count === 0) return undefined;
  return median(a.slice(0, count).map((r, i) => r.wallMs / b[i].wallMs));
}

function printTree(size, tree, results) {
  log(`\n${size}: ${tree.files.toLocaleString("en")} files, ${mib(tree.bytes)} (${tree.root})`);
  log(`  ${"command".padEnd(30)} ${"median wall".padStart(11)} ${"median cpu".padStart(11)} ${"peak RSS".padStart(11)}   size`);
  for (const [id, label] of Object.entries(LABELS)) {
    const runs = results[id];
    if (!runs) continue;
    const size = runs.at(-1).size;
    log(`  ${label.padEnd(30)} ${seconds(median(runs.map((r) => r.wallMs))).padStart(11)} ${seconds(median(runs.map((r) => r.cpuMs))).padStart(11)} ${mib(Math.max(...runs.map((r) => r.peakRssBytes))).padStart(11)}   ${size ? mib(size) : ""}`);
  }
}

/** The bar lines of one tree: time ratios where they are barred (informational elsewhere). */
function barLines(size, results, restic) {
  const lines = [];
  const barred = TIMED_SIZES.has(size);
  const verdict = (ok) => (barred ? (ok ? "PASS" : "FAIL") : "info");
  const timeLine = (label, ours, peer, bar) => {
    const value = ratio(results, ours, peer);
    if (value === undefined) return;
    // Under neighbours' load, parallel work buys less and the wall time ratio drifts towards the CPU time ratio.
    const cpu = median(results[ours].map((r) => r.cpuMs)) / median(results[peer].map((r) => r.cpuMs));
    lines.push(`${verdict(value <= bar)} ${size} ${label} = ${value.toFixed(3)} (medians ${seconds(median(results[ours].map((r) => r.wallMs)))} vs ${seconds(median(results[peer].map((r) => r.wallMs)))}; CPU time ratio ${cpu.toFixed(3)}), bar <= ${bar}`);
  };
  if (results.backup) {
    timeLine("backup time ours/zip -6", "backup", "zip", BARS.backupVsZip);
    if (results.restic) timeLine("backup time ours/restic", "backup", "restic", BARS.backupVsRestic);
    else if (withPeers) lines.push(`SKIP ${size} backup time ours/restic: ${restic.reason}`);
  }
  if (results.zip) {
    const sizeRatio = results.backup.at(-1).size / results.zip.at(-1).size;
    lines.push(`${verdict(sizeRatio <= BARS.sizeVsZip)} ${size} zip size ours/zip -6 = ${sizeRatio.toFixed(3)} (${mib(results.backup.at(-1).size)} vs ${mib(results.zip.at(-1).size)}), bar <= ${BARS.sizeVsZip}`);
  }
  if (results["ours-empty"]) {
    timeLine("restore time into an empty folder ours/unzip -q", "ours-empty", "unzip-empty", BARS.restoreEmptyVsUnzip);
    timeLine("restore time over the home ours/unzip -o", "ours-over", "unzip-over", BARS.restoreOverVsUnzip);
  }
  if (results.content) {
    const { compared, differences, problems } = results.content;
    lines.push(`${differences === 0 ? "PASS" : "FAIL"} ${size} content: the home restored over a changed home ${differences === 0 ? `equals the tree (${compared.toLocaleString("en")} paths)` : `differs in ${differences} paths, e.g. ${problems.join("; ")}`}`);
  }
  return lines;
}

/** Peak RSS per command across the sizes; the bar holds at every size (it is set at 1M: memory must be flat). */
function memoryTable(measured) {
  const lines = [];
  log(`\nPeak RSS per command (memory is flat):`);
  log(`  ${"command".padEnd(30)}${measured.map(({ size }) => size.padStart(12)).join("")}`);
  for (const id of Object.keys(LABELS)) {
    if (!measured.some(({ results }) => results[id])) continue;
    log(`  ${LABELS[id].padEnd(30)}${measured.map(({ results }) => (results[id] ? mib(Math.max(...results[id].map((r) => r.peakRssBytes))) : "-").padStart(12)).join("")}`);
  }
  for (const { size, results } of measured) {
    const ours = OURS.filter((id) => results[id]).map((id) => [id, Math.max(...results[id].map((r) => r.peakRssBytes))]);
    if (!ours.length) continue;
    const [worstId, worst] = ours.reduce((a, b) => (b[1] > a[1] ? b : a));
    lines.push(`${worst <= BARS.peakRssBytes ? "PASS" : "FAIL"} ${size} peak RSS of our commands <= ${BARS.peakRssBytes / 1e6} MB: highest ${(worst / 1e6).toFixed(0)} MB (${LABELS[worstId]})${ours.filter(([, v]) => v > BARS.peakRssBytes).length > 1 ? `; over the bar: ${ours.filter(([, v]) => v > BARS.peakRssBytes).map(([id, v]) => `${LABELS[id]} ${(v / 1e6).toFixed(0)} MB`).join(", ")}` : ""}`);
  }
  return lines;
}

/** What a tree of `size` needs where it lives and where the bench writes, and whether it fits. */
function roomFor(size) {
  if (SIZES[size] === "node_modules") return { ok: true, lines: [] };
  const files = SIZES[size];
  const cached = existsSync(path.join(treeDir, `tree-small-${files}-v1.complete.json`));
  const needs = [
    // One restored home at a time, our zip, and zip's zip and restic's repository (text deflates ~2.5 x, plus headers).
    { dir: workDir, bytes: files * (SMALL_FILE_FOOTPRINT + (withPeers ? 3 : 1) * 1.3 * 1024), files: files * 1.02 },
  ];
  if (!cached) needs.push({ dir: treeDir, bytes: files * SMALL_FILE_FOOTPRINT, files: files * 1.02 });
  return checkRoom(needs);
}

async function main() {
  if (!cli) {
    console.error("Build first: npm run build");
    process.exit(2);
  }
  for (const tool of ["zip", "unzip"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      console.error(`${tool} is needed (Debian package "${tool}"; scripts/setup-tests.sh installs it).`);
      process.exit(2);
    }
  }
  const restic = parts.has("backup") && withPeers ? findRestic() : { reason: "not measured" };
  log(`Scale benchmark: trees ${sizes.join(", ")}; parts ${[...parts].join(", ")}; ${rounds} rounds (1 at 1M), alternating; node ${process.version}.`);
  log(`Trees in ${treeDir}; zips, restic repositories and restored homes in ${workDir}.`);
  if (withPeers) {
    log(`Peers: zip -qry -6, unzip -q / unzip -o -q, ${restic.restic ? `restic 0.17.3 (${restic.restic})` : `no restic (${restic.reason})`}.`);
    log(`Restic deduplicates and encrypts into its repository; we deflate into one zip, as zip does.`);
  } else log(`Peers: none (BENCH_SCALE_PEERS=0): our commands alone.`);
  mkdirSync(workDir, { recursive: true });
  // An interrupted run leaves no zips or homes behind (the commands it started are stopped on exit too).
  process.on("exit", () => rmSync(workDir, { recursive: true, force: true, maxRetries: 3 }));
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143));

  const measured = [];
  const verdicts = [];
  const startedAll = performance.now();
  for (const size of sizes) {
    const started = performance.now();
    log(`\n=== ${size} ===`);
    const room = roomFor(size);
    for (const line of room.lines) log(`  ${line}`);
    if (!room.ok) {
      verdicts.push(`SKIP ${size}: not enough room (${room.lines.filter((l) => l.includes("too little")).join("; ")}); point BENCH_DIR / BENCH_TREE_DIR elsewhere or pick sizes with BENCH_SCALE_SIZES=42k,100k,250k`);
      log(`  ${verdicts.at(-1)}`);
      continue;
    }
    const tree = SIZES[size] === "node_modules" ? ensureNodeModulesTree(treeDir, repoRoot, log) : ensureSmallFileTree(treeDir, SIZES[size], log);
    if (!tree) {
      verdicts.push(`SKIP ${size}: this checkout has no node_modules; run npm ci`);
      log(`  ${verdicts.at(-1)}`);
      continue;
    }
    const prepared = performance.now();
    const results = { failures: [] };
    try {
      await benchTree(size, tree, restic, results);
    } catch (error) {
      results.failures.push(`stopped by a failed command: ${failureOf(error)}`);
      log(`  ${results.failures.at(-1)}`);
      rmTree(path.join(workDir, size));
    }
    printTree(size, tree, results);
    const lines = [...barLines(size, results, restic), ...results.failures.map((failure) => `FAIL ${size} ${failure}`)];
    for (const line of lines) log(line);
    verdicts.push(...lines);
    measured.push({ size, results });
    if (!keepTrees && SIZES[size] !== "node_modules") {
      rmTree(tree.root);
      rmSync(`${tree.root}.complete.json`, { force: true });
    }
    log(`  (${size}: tree ready in ${seconds(prepared - started)}, measured in ${seconds(performance.now() - prepared)})`);
  }
  const generatedTrees = sizes.some((size) => SIZES[size] !== "node_modules");
  if (parts.has("memory") && generatedTrees && !sizes.some((size) => SIZES[size] >= 1e6)) verdicts.push(`SKIP 1M: the memory bar is set on a 1,000,000-file home, not measured in this run`);
  const memoryLines = memoryTable(measured);
  rmTree(workDir);

  log(`\nVerdicts (${seconds(performance.now() - startedAll)} in all):`);
  for (const line of [...verdicts, ...memoryLines]) log(line);
  if ([...verdicts, ...memoryLines].some((line) => line.startsWith("FAIL"))) process.exitCode = 1;
}

await main();
if (process.env.BENCH_LARGE === "1") {
  log(`\n=== large ===`);
  await import("./large.mjs");
}
