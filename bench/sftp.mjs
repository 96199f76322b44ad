/**
 * Remote-home benchmark: `app-backup backup` of a home served over SFTP (a fresh CLI process per
 * round, `home: sftp://USER@127.0.0.1:PORT/PATH`, a local folder container) against what a user
 * would do by hand over the same SSH server, `ssh … 'tar -cz -C PATH .' > out.tgz`, in the same
 * run, alternating who goes first, medians of the rounds reported:
 *
 *   - wall time ratio ours / ssh+tar (bar <= 1.0), with the CPU time ratio of the client side
 *     alongside (tar's CPU is spent by the server, which is this machine too);
 *   - peak RSS of our command (bar <= 200 MB);
 *   - sizes of the zip and the .tgz, for information.
 *
 * The tree is a copy of this checkout's node_modules (~44k files, ~600 MiB, links included),
 * as in bench/scale.mjs, cached under BENCH_TREE_DIR. The SSH server is OpenSSH's, started here
 * on a free loopback port with its own keys (bench/lib/sshd.mjs); client and server share the
 * machine's cores, as they share a benchmark's.
 *
 *   npm run build && node bench/sftp.mjs
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_TREE_DIR (default .cache/bench), BENCH_DIR
 * (default /dev/shm/app-backup-bench-sftp: containers and .tgz files). Exits 1 if a bar fails.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { snapshotCli } from "./lib/cli-snapshot.mjs";
import { measureCommand, median, mib, seconds } from "./lib/measure.mjs";
import { ensureNodeModulesTree } from "./lib/scale-tree.mjs";
import { startBenchSshd } from "./lib/sshd.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const treeDir = path.resolve(process.env.BENCH_TREE_DIR ?? path.join(repoRoot, ".cache", "bench"));
const workDir = path.resolve(process.env.BENCH_DIR ?? "/dev/shm/app-backup-bench-sftp");
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const BARS = { timeVsSshTar: 1.0, peakRssBytes: 200e6 };
/** No single command should take this long; if one does, it is stopped and reported. */
const COMMAND_CAP_MS = 30 * 60_000;
const log = (message) => console.log(message);

const cli = snapshotCli(repoRoot);
const tree = ensureNodeModulesTree(treeDir, repoRoot, log);
if (!tree) {
  console.error(`No node_modules in ${repoRoot} to copy as the benchmark tree: run npm ci first.`);
  process.exit(2);
}
if (!cli) log("dist/ is not built (npm run build): only the ssh+tar side is measured.");

rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
const sshd = await startBenchSshd();
const home = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${tree.root}`;
log(`Tree: ${tree.root} (${tree.files.toLocaleString("en")} files, ${mib(tree.bytes)}), served by OpenSSH on 127.0.0.1:${sshd.port}; ${rounds} round(s).`);

const configPath = path.join(workDir, "app-backup.yml");
const container = path.join(workDir, "container");
writeFileSync(
  configPath,
  [
    "name: bench",
    `home: ${JSON.stringify(home)}`,
    "sftp:",
    `  privateKeyFile: ${JSON.stringify(sshd.clientKey)}`,
    `  knownHosts: ${JSON.stringify(sshd.knownHosts)}`,
    "backup:",
    `  storage: { path: ${JSON.stringify(container)} }`,
    "",
  ].join("\n"),
);
const tgz = path.join(workDir, "out.tgz");
const sshTar = [
  "ssh",
  "-i", sshd.clientKey,
  "-o", `UserKnownHostsFile=${sshd.knownHosts}`,
  "-o", "StrictHostKeyChecking=yes",
  "-o", "BatchMode=yes",
  "-p", String(sshd.port),
  `${sshd.user}@127.0.0.1`,
  `tar -cz -C ${shellQuote(tree.root)} .`,
].map(shellQuote).join(" ");

const results = { ours: [], peer: [] };
const failures = [];
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["ours", "peer"] : ["peer", "ours"];
    for (const who of order) {
      try {
        if (who === "peer") {
          rmSync(tgz, { force: true });
          const measured = await measureCommand("sh", ["-c", `${sshTar} > ${shellQuote(tgz)}`], { timeoutMs: COMMAND_CAP_MS });
          results.peer.push({ ...measured, size: statSync(tgz).size });
          log(`  round ${round + 1} ssh+tar -cz: ${seconds(measured.wallMs)}, ${mib(statSync(tgz).size)}`);
        } else if (cli) {
          rmSync(container, { recursive: true, force: true });
          const name = `bench_round-${round + 1}`;
          const measured = await measureCommand(process.execPath, [cli, "backup", "--config", configPath, "--name", name, "--json"], { timeoutMs: COMMAND_CAP_MS, captureStdout: true });
          const result = JSON.parse(measured.stdout);
          if (result.status !== "Succeeded") throw new Error(`the backup ended ${result.status}: ${result.error ?? JSON.stringify(result.skipped?.slice(0, 3))}`);
          const zip = path.join(container, `${name}.zip`);
          results.ours.push({ ...measured, size: statSync(zip).size, files: result.files });
          log(`  round ${round + 1} app-backup over SFTP: ${seconds(measured.wallMs)}, ${mib(statSync(zip).size)}, peak RSS ${mib(measured.peakRssBytes)}, ${result.files.toLocaleString("en")} files`);
        }
      } catch (error) {
        const said = String(error.stderr ?? "").split("\n").find((line) => line.startsWith("error:")) ?? String(error.message).slice(0, 400);
        failures.push(`round ${round + 1} ${who === "ours" ? "app-backup over SFTP" : "ssh+tar"}: ${said}`);
        log(`  round ${round + 1} ${who === "ours" ? "app-backup over SFTP" : "ssh+tar"} FAILED: ${said}`);
      }
    }
  }
} finally {
  await sshd.stop();
  if (existsSync(workDir)) execFileSync("rm", ["-rf", workDir]);
}

const lines = [];
const wall = (list) => median(list.map((r) => r.wallMs));
const cpu = (list) => median(list.map((r) => r.cpuMs));
if (results.ours.length && results.peer.length) {
  const ratio = wall(results.ours) / wall(results.peer);
  lines.push(
    `${ratio <= BARS.timeVsSshTar ? "PASS" : "FAIL"} backup time over SFTP ours/ssh+tar -cz = ${ratio.toFixed(3)} (medians ${seconds(wall(results.ours))} vs ${seconds(wall(results.peer))}; client CPU ${seconds(cpu(results.ours))} vs ${seconds(cpu(results.peer))}), bar <= ${BARS.timeVsSshTar}`,
  );
  lines.push(`info archive size ours/tgz = ${(results.ours.at(-1).size / results.peer.at(-1).size).toFixed(3)} (${mib(results.ours.at(-1).size)} vs ${mib(results.peer.at(-1).size)})`);
}
if (results.ours.length) {
  const peak = Math.max(...results.ours.map((r) => r.peakRssBytes));
  lines.push(`${peak <= BARS.peakRssBytes ? "PASS" : "FAIL"} peak RSS of app-backup backup over SFTP <= ${BARS.peakRssBytes / 1e6} MB: ${(peak / 1e6).toFixed(0)} MB`);
} else if (results.peer.length) {
  lines.push(`info ssh+tar -cz median ${seconds(wall(results.peer))} (client CPU ${seconds(cpu(results.peer))}), ${mib(results.peer.at(-1).size)}; ours not measured`);
}
for (const failure of failures) lines.push(`FAIL ${failure}`);
log("");
for (const line of lines) log(line);
if (lines.some((line) => line.startsWith("FAIL"))) process.exitCode = 1;

function shellQuote(text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
