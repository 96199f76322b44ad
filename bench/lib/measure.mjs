import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const GNU_TIME = "/usr/bin/time";

/** Thrown when a command outlives its `timeoutMs`: it was killed, with everything it started. */
export class CommandTimeout extends Error {
  constructor(command, timeoutMs) {
    super(`${command} took longer than ${timeoutMs / 1000} s and was stopped`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs a command to completion and returns its wall time (measured here, process
 * start included), peak RSS and CPU time (from GNU time, which reads the child's
 * rusage). With `captureStdout`, also what it printed (`stdout`). With
 * `timeoutMs`, a command still running by then is killed and CommandTimeout thrown.
 */
export async function measureCommand(command, args, { cwd, env, timeoutMs, captureStdout = false } = {}) {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is needed to measure peak memory (Debian package "time").`);
  const report = path.join(os.tmpdir(), `bench-time-${process.pid}-${Date.now()}.txt`);
  const started = performance.now();
  const { code, stdout, stderr, timedOut } = await new Promise((resolve, reject) => {
    // A capped command gets its own process group, so that GNU time and the command under it are killed together.
    const child = spawn(GNU_TIME, ["-o", report, "-f", "%M %U %S", command, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", captureStdout ? "pipe" : "ignore", "pipe"],
      detached: timeoutMs !== undefined,
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), killGroup()), timeoutMs);
    // A detached group does not get the terminal's Ctrl-C: it must not outlive this process.
    if (timer) process.on("exit", killGroup);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      process.off("exit", killGroup);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
  const wallMs = performance.now() - started;
  const text = existsSync(report) ? readFileSync(report, "utf8") : "";
  rmSync(report, { force: true });
  if (timedOut) throw new CommandTimeout(`${path.basename(command)} ${args.join(" ")}`, timeoutMs);
  if (code !== 0) {
    const error = new Error(`${command} ${args.join(" ")} failed (exit ${code}): ${stderr.trim() || text.trim()}`);
    Object.assign(error, { exitCode: code, stderr });
    throw error;
  }
  const [peakRssKb, userSeconds, systemSeconds] = text.trim().split("\n").pop().split(" ").map(Number);
  return { wallMs, peakRssBytes: peakRssKb * 1024, cpuMs: (userSeconds + systemSeconds) * 1000, ...(captureStdout ? { stdout } : {}) };
}
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
