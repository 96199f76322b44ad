import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const cliPath = path.join(repoRoot, "dist/cli/bin.js");

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
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs as string[], {
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
