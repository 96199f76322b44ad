import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "./cli.js";
import { temporaryFolder } from "./action-workspace.js";

/** Node 24, the runtime `runs.using: node24` gives the Action on a runner. */
export const node24 = path.join(repoRoot, "node_modules/.bin/node");
export const mainEntry = path.join(repoRoot, "action/dist/index.js");
export const postEntry = path.join(repoRoot, "action/dist/post.js");

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** Values saved with `core.saveState`, as the runner hands them to the post step. */
  state: Record<string, string>;
  summary: string;
  /** `::error::` annotations, decoded. */
  errors: string[];
  /** `::warning::` annotations, decoded. */
  warnings: string[];
  /** `::add-mask::` values: what the runner will mask in the log. */
  masked: string[];
  /** stdout without the `::add-mask::` commands, which the runner consumes and never shows. */
  visibleLog: string;
  /** Every file the runner reads back (outputs, summary, state, env, path) concatenated, as written. */
  files: string;
  dir: string;
}

export interface ActionStep {
  /** Action inputs by their action.yml name. */
  inputs: Record<string, string>;
  /** Extra environment (e.g. the step's `env:` block). */
  env?: Record<string, string>;
  workspace: string;
  entry?: "main" | "post";
  /** `STATE_*` values for the post step (the main step's `state`). */
  state?: Record<string, string>;
  /** Runs the step as this unprivileged user (`setpriv`), as a runner service account would. */
  asUser?: "nobody";
  /** Called with the child once it started (to cancel it, for example). */
  onSpawn?: (child: import("node:child_process").ChildProcess) => void;
}

/**
 * Runs the committed bundle exactly as a runner does: Node 24, inputs as
 * `INPUT_<NAME>` variables, the file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
 * GITHUB_STATE, GITHUB_ENV, GITHUB_PATH) in a temp folder, and the `GITHUB_*`
 * context of a workflow run.
 */
export async function runAction(step: ActionStep): Promise<ActionRun> {
  const dir = await temporaryFolder("action-run-");
  const runnerTemp = path.join(dir, "runner-temp");
  await mkdir(runnerTemp);
  const files = {
    GITHUB_OUTPUT: path.join(dir, "output"),
    GITHUB_STEP_SUMMARY: path.join(dir, "summary.md"),
    GITHUB_STATE: path.join(dir, "state"),
    GITHUB_ENV: path.join(dir, "env"),
    GITHUB_PATH: path.join(dir, "path"),
  };
  for (const file of Object.values(files)) await writeFile(file, "", { mode: 0o666 });
  if (step.asUser) {
    for (const target of [dir, runnerTemp]) await chmod(target, 0o777);
    for (const file of Object.values(files)) await chmod(file, 0o666);
  }
  const eventPath = path.join(dir, "event.json");
  await writeFile(eventPath, JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "contoso/shop", name: "shop", owner: { login: "contoso" } } }));

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: "C.UTF-8",
    GITHUB_ACTIONS: "true",
    CI: "true",
    GITHUB_REPOSITORY: "contoso/shop",
    GITHUB_REPOSITORY_OWNER: "contoso",
    GITHUB_SHA: "3f786850e387550fdab836ed7e6dc881de23001b",
    GITHUB_REF: "refs/heads/main",
    GITHUB_REF_NAME: "main",
    GITHUB_WORKFLOW: "Deploy",
    GITHUB_JOB: "deploy",
    GITHUB_RUN_ID: "1234567890",
    GITHUB_RUN_NUMBER: "42",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_EVENT_NAME: "push",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_API_URL: "https://api.github.com",
    GITHUB_GRAPHQL_URL: "https://api.github.com/graphql",
    GITHUB_ACTOR: "octocat",
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_WORKSPACE: step.workspace,
    GITHUB_ACTION: "backup",
    GITHUB_ACTION_PATH: repoRoot,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: "Linux",
    RUNNER_ARCH: "X64",
    ...files,
    ...step.env,
  };
  for (const [name, value] of Object.entries(step.inputs)) env[inputVariable(name)] = value;
  for (const [name, value] of Object.entries(step.state ?? {})) env[`STATE_${name}`] = value;

  const entry = step.entry === "post" ? postEntry : mainEntry;
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const [command, args] = step.asUser
      ? ["setpriv", ["--reuid", step.asUser, "--regid", "nogroup", "--clear-groups", node24, entry]]
      : [node24, [entry]];
    const child = spawn(command, args, { cwd: step.workspace, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (exitCode, signal) => resolve({ code: exitCode ?? (signal ? 128 : -1), stdout: out, stderr: err }));
    step.onSpawn?.(child);
  });

  const read = (file: string) => readFile(file, "utf8");
  const lines = stdout.split(/\r?\n/);
  const command = (name: string) => lines.filter((l) => l.startsWith(`::${name}`)).map((l) => decodeCommandData(l.slice(l.indexOf("::", 2) + 2)));
  return {
    code,
    stdout,
    stderr,
    outputs: parseFileCommand(await read(files.GITHUB_OUTPUT)),
    state: parseFileCommand(await read(files.GITHUB_STATE)),
    summary: await read(files.GITHUB_STEP_SUMMARY),
    errors: command("error"),
    warnings: command("warning"),
    masked: command("add-mask"),
    visibleLog: lines.filter((l) => !l.startsWith("::add-mask::")).join("\n"),
    files: (await Promise.all(Object.values(files).map(read))).join("\n"),
    dir,
  };
}

/** GitHub's rule: `INPUT_` + the name upper-cased with spaces replaced by `_` (hyphens stay). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** The `name<<delimiter` heredoc format of GITHUB_OUTPUT, GITHUB_STATE and GITHUB_ENV. */
export function parseFileCommand(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = line.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`Unterminated ${name}<<${delimiter} in a file command`);
      values[name] = body.join("\n");
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`Not a file command line: ${line}`);
    values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return values;
}

/** Reverses the `%25`, `%0D`, `%0A` escaping of workflow command data. */
function decodeCommandData(data: string): string {
  return data.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}
