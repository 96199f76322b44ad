/**
 * Large backup benchmark, on demand: a generated tree of ~20 GB (twice Azure's 10 GB cap, with
 * `maxSize` raised in the configuration) mixing incompressible files (one over 4 GiB), GBs of
 * compressible text and small files, backed up by the CLI into a local folder container and into
 * Azurite, with peak RSS of each command (memory must stay flat: <= 200 MB). The zip must be ZIP64
 * and pass `unzip -t`, 7-Zip's `7z t` and Python's zipfile testzip(); it is then restored and
 * checked with `verify --read-data`, and the restored tree compared with the source.
 *
 *   npm run build && BENCH_LARGE=1 node bench/scale.mjs      (or: node bench/large.mjs)
 *
 * It needs room for the tree, the zip and the restored tree (~2.8 x the size, ~55 GB at 20 GB) on
 * BENCH_LARGE_DIR (default .cache/bench/large), and says so before it starts. Environment:
 * BENCH_LARGE_GB (default 20) for a smaller tree where there is less room, BENCH_KEEP_TREES=1 to
 * keep the generated tree for the next run. scripts/setup-bench.sh installs 7-Zip.
 * Exits 1 if a bar fails.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { containerSas, startAzurite } from "./lib/azurite.mjs";
import { ensureLargeTree } from "./lib/large-tree.mjs";
import { snapshotCli } from "./lib/cli-snapshot.mjs";
import { measureCommand, mib, seconds } from "./lib/measure.mjs";
import { checkRoom } from "./lib/room.mjs";
import { compareTrees } from "./lib/tree-compare.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = snapshotCli(repoRoot);
const largeDir = path.resolve(process.env.BENCH_LARGE_DIR ?? path.join(repoRoot, ".cache", "bench", "large"));
const gigabytes = Number(process.env.BENCH_LARGE_GB ?? 20);
const keepTree = process.env.BENCH_KEEP_TREES === "1";
const PEAK_RSS_BAR = 200e6;
const BACKUP_NAME = "bench_large";
const CAP_MS = 3 * 60 * 60_000;
const log = (message) => console.log(message);

if (!(gigabytes >= 1)) {
  console.error(`BENCH_LARGE_GB must be a number of GB, 1 or more (got "${process.env.BENCH_LARGE_GB}").`);
  process.exit(2);
}

const ourCli = (args) => measureCommand(process.execPath, [cli, ...args], { timeoutMs: CAP_MS });

function writeConfig(file, home, storage, maxSize) {
  writeFileSync(file, `name: bench\nhome: ${JSON.stringify(home)}\nbackup:\n  storage: ${JSON.stringify(storage)}\n  maxSize: ${JSON.stringify(maxSize)}\n`);
  return file;
}

/** Whether the zip ends with a ZIP64 end of central directory record and its locator (signatures 0x06064b50, 0x07064b50). */
function hasZip64End(zipPath) {
  const fd = openSync(zipPath, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 128 * 1024);
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    return tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])) && tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]));
  } finally {
    closeSync(fd);
  }
}

/** Runs a zip tester; returns a PASS/FAIL/SKIP line with its time. */
async function testZip(label, command, args, { install }) {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
  } catch {
    return `SKIP ${label}: ${command} is not installed (${install})`;
  }
  try {
    const result = await measureCommand(command, args, { timeoutMs: CAP_MS, captureStdout: true });
    return `PASS ${label} reads the zip without error (${seconds(result.wallMs)})`;
  } catch (error) {
    return `FAIL ${label}: ${String(error.message).split("\n").slice(0, 3).join(" ")}`;
  }
}

async function main() {
  if (!cli) {
    console.error("Build first: npm run build");
    process.exit(2);
  }
  const totalBytes = gigabytes * 1e9;
  const cached = existsSync(path.join(largeDir, `tree-large-${Math.round(gigabytes)}GB-v1.complete.json`));
  log(`Large benchmark: a ${gigabytes} GB tree in ${largeDir}; node ${process.version}.`);
  // The tree (unless cached), our zip (the text deflates ~3 x, the rest is stored) and the restored tree; Azurite's copy comes after the local zip is gone.
  const room = checkRoom([{ dir: largeDir, bytes: (cached ? 0 : totalBytes) + 0.8 * totalBytes + totalBytes + 1e9, files: 200_000 }], { memoryReserve: 0 });
  for (const line of room.lines) log(`  ${line}`);
  if (!room.ok) {
    log(`SKIP large: not enough room for a ${gigabytes} GB run; point BENCH_LARGE_DIR at a bigger disk, or set BENCH_LARGE_GB lower (e.g. BENCH_LARGE_GB=8; 7 or more still makes an entry over 4 GiB).`);
    process.exitCode = 2;
    return;
  }
  const tree = ensureLargeTree(largeDir, totalBytes, log);
  log(`Tree: ${tree.files.toLocaleString("en")} files, ${(tree.bytes / 1e9).toFixed(2)} GB, largest file ${(tree.largestFile / 1024 ** 3).toFixed(2)} GiB.`);
  const maxSize = `${Math.ceil((tree.bytes * 1.1) / 1e9) + 1}GB`;
  const work = path.join(largeDir, "work");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // An interrupted run leaves no zip or restored tree behind (the commands it started are stopped on exit too).
  process.on("exit", () => rmSync(work, { recursive: true, force: true, maxRetries: 3 }));
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143));
  const container = path.join(work, "container");
  const home = path.join(work, "home");
  const sourceConfig = writeConfig(path.join(work, "source.yml"), tree.root, `file:${container}`, maxSize);
  const targetConfig = writeConfig(path.join(work, "target.yml"), home, `file:${container}`, maxSize);
  const zip = path.join(container, `${BACKUP_NAME}.zip`);
  const rows = [];
  const lines = [];
  const step = async (label, args) => {
    const result = await ourCli(args);
    rows.push({ label, result });
    log(`  ${label.padEnd(44)} ${seconds(result.wallMs).padStart(10)}  cpu ${seconds(result.cpuMs).padStart(10)}  peak RSS ${mib(result.peakRssBytes).padStart(10)}`);
    return result;
  };

  try {
    await step(`backup (local container, maxSize ${maxSize})`, ["backup", "--config", sourceConfig, "--name", BACKUP_NAME, "--json"]);
    const zipBytes = statSync(zip).size;
    log(`  zip: ${(zipBytes / 1e9).toFixed(2)} GB (${((zipBytes / tree.bytes) * 100).toFixed(0)} % of the tree)`);
    // ZIP64 is required once the zip, an entry or the entry count outgrows the classic fields.
    const needsZip64 = zipBytes >= 0xffffffff || tree.largestFile >= 0xffffffff || tree.files >= 0xffff;
    const zip64 = hasZip64End(zip);
    const zipFacts = `zip ${(zipBytes / 1e9).toFixed(2)} GB, largest entry ${(tree.largestFile / 1024 ** 3).toFixed(2)} GiB, ${tree.files.toLocaleString("en")} files`;
    if (needsZip64) lines.push(`${zip64 ? "PASS" : "FAIL"} the zip ends with a ZIP64 end of central directory (${zipFacts})`);
    else lines.push(`info the zip ${zip64 ? "is" : "is not"} ZIP64; at this size (${zipFacts}) it need not be: BENCH_LARGE_GB=7 or more makes an entry over 4 GiB`);
    lines.push(await testZip("unzip -t", "unzip", ["-tq", zip], { install: "Debian package unzip" }));
    lines.push(await testZip("7z t", "7z", ["t", "-bd", zip], { install: "scripts/setup-bench.sh installs p7zip-full" }));
    lines.push(await testZip("Python zipfile testzip()", "python3", ["-c", "import sys, zipfile\nbad = zipfile.ZipFile(sys.argv[1]).testzip()\nsys.exit(f'bad entry: {bad}' if bad else 0)", zip], { install: "Debian package python3" }));
    for (const line of lines.slice(-3)) log(`  ${line}`);
    await step("verify --read-data", ["verify", BACKUP_NAME, "--config", sourceConfig, "--read-data"]);
    mkdirSync(home, { recursive: true });
    await step("restore (empty folder)", ["restore", BACKUP_NAME, "--config", targetConfig]);
    const { compared, differences, problems } = compareTrees(tree.root, home);
    lines.push(`${differences === 0 ? "PASS" : "FAIL"} content: the restored tree ${differences === 0 ? `equals the source (${compared.toLocaleString("en")} paths)` : `differs in ${differences} paths, e.g. ${problems.join("; ")}`}`);
    rmSync(home, { recursive: true, force: true });
    rmSync(container, { recursive: true, force: true });

    // Azurite keeps its blobs under the large folder: they are as big as the zip.
    const azurite = await startAzurite({ parent: work });
    try {
      const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
      await service.getContainerClient("large").create();
      const sasUrl = `${azurite.accountUrl}/large?${containerSas("large")}`;
      const azuriteConfig = writeConfig(path.join(work, "azurite.yml"), tree.root, sasUrl, maxSize);
      await step("backup (Azurite)", ["backup", "--config", azuriteConfig, "--name", BACKUP_NAME, "--json"]);
      await step("verify (Azurite)", ["verify", BACKUP_NAME, "--config", azuriteConfig]);
    } finally {
      await azurite.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!keepTree) {
      rmSync(tree.root, { recursive: true, force: true });
      rmSync(`${tree.root}.complete.json`, { force: true });
    }
  }

  log(`\n  ${"command".padEnd(44)} ${"wall".padStart(10)}  ${"peak RSS".padStart(10)}`);
  for (const { label, result } of rows) log(`  ${label.padEnd(44)} ${seconds(result.wallMs).padStart(10)}  ${mib(result.peakRssBytes).padStart(10)}`);
  const worst = rows.reduce((a, b) => (b.result.peakRssBytes > a.result.peakRssBytes ? b : a));
  lines.push(`${worst.result.peakRssBytes <= PEAK_RSS_BAR ? "PASS" : "FAIL"} peak RSS of every command on ${gigabytes} GB <= ${PEAK_RSS_BAR / 1e6} MB: highest ${(worst.result.peakRssBytes / 1e6).toFixed(0)} MB (${worst.label})`);
  log("");
  for (const line of lines) log(line);
  if (lines.some((line) => line.startsWith("FAIL"))) process.exitCode = 1;
}

await main();
