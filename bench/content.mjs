/**
 * Content-backup benchmark: `app-backup backup` against `zip -qr -6` on the same
 * generated app tree, measured in the same run, alternating, medians reported.
 *
 *   npm run build && node --expose-gc bench/content.mjs
 *
 * The machine may be shared: rounds alternate who goes first, and each round's
 * ratio compares two runs made back to back. When other work saturates the
 * CPU, parallelism buys little and the wall time ratio drifts towards the CPU
 * time ratio, printed alongside.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_LARGE=1 to also measure memory on
 * a ~2 GB tree (generated once, ~2 GB of disk under .cache/bench/).
 * Exits 1 if a bar fails.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTree } from "./lib/tree.mjs";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = path.join(repoRoot, ".cache", "bench");
const outDir = path.join(cacheDir, "out");
const cli = path.join(repoRoot, "dist", "cli", "app-backup.mjs");
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const large = process.env.BENCH_LARGE === "1";

const BARS = { timeRatio: 0.6, sizeRatio: 1.05, peakRssBytes: 200e6, rssGrowth: 1.25 };

/**
 * The command under test: the whole `app-backup backup` job (walk, zip, manifest, log) into a
 * local folder container; its zip is then moved to `zipPath` for the size comparison.
 */
async function archiveWithOurs(tree, zipPath) {
  const container = path.join(outDir, "container");
  rmSync(container, { recursive: true, force: true });
  const config = path.join(outDir, "app-backup.yml");
  writeFileSync(config, `name: bench\nhome: ${JSON.stringify(tree)}\nbackup:\n  storage: ${JSON.stringify(`file:${container}`)}\n`);
  const result = await measureCommand(process.execPath, [cli, "backup", "--config", config, "--name", "bench", "--json"]);
  renameSync(path.join(container, "bench.zip"), zipPath);
  return result;
}

function archiveWithZip(tree, zipPath) {
  return measureCommand("zip", ["-qr", "-6", zipPath, "."], { cwd: tree });
}

const log = (message) => console.log(message);

async function timedRounds(tree) {
  const ours = [];
  const zip = [];
  const ourZip = path.join(outDir, "ours.zip");
  const peerZip = path.join(outDir, "peer.zip");
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first so page-cache and neighbour load favour neither.
    const order = round % 2 === 0 ? ["zip", "ours"] : ["ours", "zip"];
    for (const who of order) {
      const target = who === "ours" ? ourZip : peerZip;
      rmSync(target, { force: true });
      globalThis.gc?.();
      const result = who === "ours" ? await archiveWithOurs(tree, target) : await archiveWithZip(tree, target);
      result.size = statSync(target).size;
      (who === "ours" ? ours : zip).push(result);
      log(`  round ${round + 1} ${who.padEnd(4)} ${seconds(result.wallMs)}  cpu ${seconds(result.cpuMs)}  peak RSS ${mib(result.peakRssBytes)}  ${mib(result.size)}`);
    }
  }
  return { ours, zip, ourZip, peerZip };
}

/** Compressed bytes of the text part alone, where the deflate level matters (the binaries are stored by both). */
async function textShare(zipPath) {
  const { openZipFile } = await import("../dist/core/archive/zip-reader.js");
  const archive = await openZipFile(zipPath);
  try {
    return archive.entries.filter((e) => e.name.includes("node_modules/")).reduce((sum, e) => sum + e.compressedSize, 0);
  } finally {
    await archive.close();
  }
}

async function main() {
  if (!existsSync(path.join(repoRoot, "dist", "core", "archive", "zip-writer.js"))) {
    console.error("Build first: npm run build");
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  const baseTree = ensureTree(cacheDir, "base", log);
  log(`Base tree: ${baseTree}; ${rounds} rounds, alternating.`);
  const base = await timedRounds(baseTree);

  const oursTime = median(base.ours.map((r) => r.wallMs));
  const zipTime = median(base.zip.map((r) => r.wallMs));
  // Each round runs both back to back, so a round's ratio sees one level of neighbour load.
  const timeRatio = median(base.ours.map((r, i) => r.wallMs / base.zip[i].wallMs));
  const cpuRatio = median(base.ours.map((r) => r.cpuMs)) / median(base.zip.map((r) => r.cpuMs));
  const oursSize = base.ours.at(-1).size;
  const zipSize = base.zip.at(-1).size;
  const oursRss = median(base.ours.map((r) => r.peakRssBytes));
  const [oursText, zipText] = [await textShare(base.ourZip), await textShare(base.peerZip)];
  log(`Text part (node_modules/) compressed: ours ${mib(oursText)}, zip ${mib(zipText)}, ratio ${(oursText / zipText).toFixed(3)} (informational).`);

  let largeLine;
  if (large) {
    const largeTree = ensureTree(cacheDir, "large", log);
    const largeRuns = [];
    const largeZip = path.join(outDir, "ours-large.zip");
    for (let round = 0; round < Math.min(rounds, 2); round++) {
      rmSync(largeZip, { force: true });
      const result = await archiveWithOurs(largeTree, largeZip);
      result.size = statSync(largeZip).size;
      largeRuns.push(result);
      log(`  large round ${round + 1} ours ${seconds(result.wallMs)}  peak RSS ${mib(result.peakRssBytes)}  ${mib(result.size)}`);
    }
    rmSync(largeZip, { force: true });
    const largeRss = median(largeRuns.map((r) => r.peakRssBytes));
    const growth = largeRss / oursRss;
    largeLine = `${growth <= BARS.rssGrowth ? "PASS" : "FAIL"} memory growth: peak RSS on the large tree / base tree = ${growth.toFixed(2)} (${mib(largeRss)} vs ${mib(oursRss)}), bar <= ${BARS.rssGrowth}`;
  } else {
    largeLine = `SKIP memory growth: set BENCH_LARGE=1 to archive the ~2 GB tree (bar <= ${BARS.rssGrowth})`;
  }
  rmSync(base.ourZip, { force: true });
  rmSync(base.peerZip, { force: true });

  const sizeRatio = oursSize / zipSize;
  const lines = [
    `${timeRatio <= BARS.timeRatio ? "PASS" : "FAIL"} time: ours/zip wall time, median of ${rounds} rounds = ${timeRatio.toFixed(3)} (medians: ours ${seconds(oursTime)}, zip -6 ${seconds(zipTime)}; CPU time ratio ${cpuRatio.toFixed(3)}), bar <= ${BARS.timeRatio}`,
    `${sizeRatio <= BARS.sizeRatio ? "PASS" : "FAIL"} size: ours/zip compressed size = ${sizeRatio.toFixed(3)} (ours ${mib(oursSize)}, zip -6 ${mib(zipSize)}), bar <= ${BARS.sizeRatio}`,
    `${oursRss <= BARS.peakRssBytes ? "PASS" : "FAIL"} memory: our median peak RSS = ${mib(oursRss)} (${(oursRss / 1e6).toFixed(0)} MB), bar <= ${BARS.peakRssBytes / 1e6} MB`,
    largeLine,
  ];
  log("");
  for (const line of lines) log(line);
  if (lines.some((line) => line.startsWith("FAIL"))) process.exitCode = 1;
}

await main();
