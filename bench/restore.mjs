/**
 * Restore benchmark: `app-backup restore --from ZIP` against `unzip -q` of the
 * same zip, both into an empty folder on tmpfs (/dev/shm), both as child
 * processes, alternating, medians reported. Our restore checks every entry's
 * SHA-256 (unzip checks CRC-32); the restored tree is compared with the source
 * tree once at the end.
 *
 *   npm run build && node bench/restore.mjs
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_DIR (default /dev/shm/app-backup-bench-restore).
 * Exits 1 if a bar fails.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTree } from "./lib/tree.mjs";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = path.join(repoRoot, ".cache", "bench");
const cli = path.join(repoRoot, "dist", "cli", "app-backup.mjs");
const workDir = process.env.BENCH_DIR ?? "/dev/shm/app-backup-bench-restore";
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const BARS = { timeRatio: 0.8, stretchTimeRatio: 0.6, peakRssBytes: 200e6 };
const log = (message) => console.log(message);

function makeBackup(tree) {
  const sourceConfig = path.join(workDir, "source.yml");
  writeFileSync(sourceConfig, `name: bench\nhome: ${JSON.stringify(tree)}\nbackup:\n  storage: ${JSON.stringify(`file:${path.join(workDir, "backups")}`)}\n`);
  execFileSync(process.execPath, [cli, "backup", "--config", sourceConfig, "--name", "bench_restore", "--json"], { stdio: ["ignore", "ignore", "pipe"] });
  return path.join(workDir, "backups", "bench_restore.zip");
}

/** Every path of a tree with its kind, size, mode, mtime and content hash: what a restore must reproduce. */
function treeFacts(root) {
  const facts = new Map();
  const visit = (absolute, relative) => {
    for (const name of readdirSync(absolute)) {
      const childAbsolute = path.join(absolute, name);
      const childRelative = relative ? `${relative}/${name}` : name;
      const stats = lstatSync(childAbsolute);
      if (stats.isSymbolicLink()) facts.set(childRelative, `link ${readlinkSync(childAbsolute)}`);
      else if (stats.isDirectory()) {
        facts.set(childRelative, `dir ${(stats.mode & 0o7777).toString(8)} ${Math.round(stats.mtimeMs)}`);
        visit(childAbsolute, childRelative);
      } else {
        const hash = createHash("sha256").update(readFileSync(childAbsolute)).digest("hex");
        facts.set(childRelative, `file ${stats.size} ${(stats.mode & 0o7777).toString(8)} ${Math.round(stats.mtimeMs)} ${hash}`);
      }
    }
  };
  visit(root, "");
  return facts;
}

function compareTrees(expected, actual) {
  const problems = [];
  for (const [name, fact] of expected) if (actual.get(name) !== fact) problems.push(`${name}: expected ${fact}, got ${actual.get(name) ?? "nothing"}`);
  for (const name of actual.keys()) if (!expected.has(name)) problems.push(`${name}: not in the source tree`);
  return problems;
}

async function main() {
  if (!existsSync(cli)) {
    console.error("Build first: npm run build");
    process.exit(2);
  }
  const tree = ensureTree(cacheDir, "base", log);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  log(`Backing up the base tree ${tree} into ${workDir} ...`);
  const zip = makeBackup(tree);
  log(`Zip: ${mib(statSync(zip).size)}; node ${process.version}; ${rounds} rounds, alternating.`);

  const home = path.join(workDir, "target", "home");
  const targetConfig = path.join(workDir, "target.yml");
  writeFileSync(targetConfig, `name: bench-target\nhome: ${JSON.stringify(home)}\nbackup:\n  storage: ${JSON.stringify(`file:${path.join(workDir, "target-backups")}`)}\n`);
  const unzipDir = path.join(workDir, "unzip-out");

  const ours = [];
  const peer = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["unzip", "ours"] : ["ours", "unzip"];
    for (const who of order) {
      const folder = who === "ours" ? home : unzipDir;
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder, { recursive: true });
      const result =
        who === "ours"
          ? await measureCommand(process.execPath, [cli, "restore", "--config", targetConfig, "--from", zip])
          : await measureCommand("unzip", ["-q", zip, "-d", unzipDir]);
      (who === "ours" ? ours : peer).push(result);
      log(`  round ${round + 1} ${who.padEnd(5)} ${seconds(result.wallMs)}  peak RSS ${mib(result.peakRssBytes)}`);
    }
  }

  const problems = compareTrees(treeFacts(tree), treeFacts(home));
  rmSync(workDir, { recursive: true, force: true });

  const oursTime = median(ours.map((r) => r.wallMs));
  const peerTime = median(peer.map((r) => r.wallMs));
  const oursRss = median(ours.map((r) => r.peakRssBytes));
  const ratio = oursTime / peerTime;
  const lines = [
    `${ratio <= BARS.timeRatio ? "PASS" : "FAIL"} time: ours/unzip median wall time = ${ratio.toFixed(3)} (ours ${seconds(oursTime)}, unzip -q ${seconds(peerTime)}), bar <= ${BARS.timeRatio}`,
    `${ratio <= BARS.stretchTimeRatio ? "PASS" : "MISS"} stretch time: bar <= ${BARS.stretchTimeRatio}`,
    `${oursRss <= BARS.peakRssBytes ? "PASS" : "FAIL"} memory: our median peak RSS = ${mib(oursRss)} (${(oursRss / 1e6).toFixed(0)} MB), bar <= ${BARS.peakRssBytes / 1e6} MB`,
    `${problems.length === 0 ? "PASS" : "FAIL"} content: the restored tree ${problems.length === 0 ? "equals the source tree (content, modes, mtimes, links)" : `differs from the source tree in ${problems.length} paths, e.g. ${problems.slice(0, 3).join("; ")}`}`,
  ];
  log("");
  for (const line of lines) log(line);
  if (lines.some((line) => line.startsWith("FAIL"))) process.exitCode = 1;
}

await main();
