import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The `app-backup` binary as installed: the bundle `npm run build` writes. */
export const cliPath = path.join(repoRoot, "dist/cli/app-backup.mjs");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (the `--json` contract). */
  json: any;
}

/** Runs the built `app-backup` binary as a user would, optionally as another user (`setpriv`). */
export async function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; asUser?: string; node?: string } = {},
): Promise<CliRun> {
  const node = options.node ?? process.execPath;
  const [command, commandArgs] = options.asUser
    ? ["setpriv", ["--reuid", options.asUser, "--regid", options.asUser === "nobody" ? "nogroup" : options.asUser, "--clear-groups", node, cliPath, ...args]]
    : [node, [cliPath, ...args]];
  return runCommand(command, commandArgs, options);
}

export interface MeasuredRun extends CliRun {
  /** The most memory the process (main thread and workers) ever held resident, in bytes. */
  peakRssBytes: number;
}

/** Runs the built CLI under GNU time, which reports the process's peak resident memory once it exits. */
export async function runCliMeasured(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<MeasuredRun> {
  const marker = "app-backup-peak-rss-kb=";
  const run = await runCommand("/usr/bin/time", ["-q", "-f", `${marker}%M`, process.execPath, cliPath, ...args], options);
  const at = run.stderr.lastIndexOf(marker);
  if (at < 0) throw new Error(`GNU time did not report the peak memory:\n${run.stderr}`);
  const peakRssBytes = Number.parseInt(run.stderr.slice(at + marker.length), 10) * 1024;
  // GNU time passes the child's exit status on; its own report is not part of what the CLI printed.
  return { ...run, stderr: run.stderr.slice(0, at), peakRssBytes };
}

function runCommand(command: string, commandArgs: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? "";
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}
