import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const GNU_TIME = "/usr/bin/time";

/**
 * Runs a command to completion and returns its wall time (measured here, process
 * start included), peak RSS and CPU time (from GNU time, which reads the child's
 * rusage).
 */
export async function measureCommand(command, args, { cwd, env } = {}) {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is needed to measure peak memory (Debian package "time").`);
  const report = path.join(os.tmpdir(), `bench-time-${process.pid}-${Date.now()}.txt`);
  const started = performance.now();
  const { code, stderr } = await new Promise((resolve, reject) => {
    const child = spawn(GNU_TIME, ["-o", report, "-f", "%M %U %S", command, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
  const wallMs = performance.now() - started;
  const text = existsSync(report) ? readFileSync(report, "utf8") : "";
  rmSync(report, { force: true });
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${code}): ${stderr.trim() || text.trim()}`);
  const [peakRssKb, userSeconds, systemSeconds] = text.trim().split("\n").pop().split(" ").map(Number);
  return { wallMs, peakRssBytes: peakRssKb * 1024, cpuMs: (userSeconds + systemSeconds) * 1000 };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
