import { execFile } from "node:child_process";
import { access, constants, copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation/index.js";
import { ensurePulumiYamlHost, installProviderPlugin } from "./pulumi-plugin.js";

const runFile = promisify(execFile);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const buildScript = join(repoRoot, "scripts/build-pulumi.sh");

/** A cold build compiles the whole Pulumi CLI; CI builds it before the tests so this is only a fallback. */
const buildTimeoutMs = 20 * 60_000;

export interface PulumiTestStackOptions {
  /** An inline program, run in this process; or `projectFiles`, a program folder's files run by the `pulumi` CLI. */
  program?: PulumiFn;
  /** Files copied unchanged into the stack's work folder (e.g. an example's Pulumi.yaml), whose program `pulumi` runs. */
  projectFiles?: string[];
  /** Installs the app-backup provider plugin from its tarball into the stack's Pulumi home, as a user does. */
  withPlugin?: boolean;
  /** The `node` the dynamic provider launcher and the plugin run on; default: the one running the tests. */
  node?: string;
  projectName?: string;
  stackName?: string;
  passphrase?: string;
}

export interface PulumiTestStack {
  stack: Stack;
  /** The folder `pulumi` runs the program in: relative paths of inputs are taken from it. */
  workDir: string;
  /** Environment of every `pulumi` command of the stack: PATH, backend, passphrase, Pulumi home. */
  env: Record<string, string>;
  /** Root of the `file://` backend holding the state, its history and its backups. */
  backendDir: string;
  /** The stack's current state file inside the backend. */
  stateFilePath: string;
  /** Raw text of the current state file, exactly as the engine stored it. */
  readState(): Promise<string>;
  /** Removes the stack's resources if any are left, then all of its folders. */
  cleanup(): Promise<void>;
}

export async function installedPulumiSdkVersion(): Promise<string> {
  const packageJson = JSON.parse(await readFile(join(repoRoot, "node_modules/@pulumi/pulumi/package.json"), "utf8"));
  return packageJson.version as string;
}

/**
 * Returns the folder holding the `pulumi` CLI (same version as the @pulumi/pulumi SDK), the
 * dynamic provider launcher and the Python SDK generator, building them from source first if they are missing.
 */
export async function ensurePulumiCli(): Promise<string> {
  const binDir = join(repoRoot, ".cache/pulumi", await installedPulumiSdkVersion(), "bin");
  const required = ["pulumi", "pulumi-resource-pulumi-nodejs", "pulumi-gen-python-sdk"].map((name) => join(binDir, name));
  const present = await Promise.all(required.map((file) => isExecutable(file)));
  if (present.every(Boolean)) return binDir;

  try {
    await runFile(buildScript, [], { cwd: repoRoot, timeout: buildTimeoutMs, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`Building the Pulumi CLI with ${buildScript} failed; run it by hand to see why.\n${stderr.slice(-4000)}`);
  }
  return binDir;
}

let cliPromise: Promise<{ binDir: string; command: PulumiCommand }> | undefined;

export async function pulumiCli(): Promise<{ binDir: string; command: PulumiCommand }> {
  cliPromise ??= (async () => {
    const binDir = await ensurePulumiCli();
    const command = await PulumiCommand.get({ root: dirname(binDir) });
    const sdkVersion = await installedPulumiSdkVersion();
    if (command.version?.version !== sdkVersion) {
      throw new Error(
        `The Pulumi CLI in ${binDir} reports version ${command.version?.version ?? "unknown"}, but @pulumi/pulumi is ` +
          `${sdkVersion}; delete ${dirname(binDir)} and run ${buildScript} again.`,
      );
    }
    return { binDir, command };
  })();
  return cliPromise;
}

/**
 * Creates a stack that runs `program` inline on the real Pulumi engine, with its state in a fresh
 * `file://` backend and secrets encrypted by a passphrase, all under one temp folder.
 */
export async function createPulumiTestStack(options: PulumiTestStackOptions): Promise<PulumiTestStack> {
  const { binDir, command } = await pulumiCli();
  const projectName = options.projectName ?? "app-backup-test";
  const stackName = options.stackName ?? "test";
  const rootDir = await mkdtemp(join(tmpdir(), "app-backup-pulumi-"));
  const backendDir = join(rootDir, "backend");
  const pulumiHome = join(rootDir, "home");
  const workDir = join(rootDir, "work");
  await Promise.all([backendDir, pulumiHome, workDir].map((dir) => mkdir(dir)));

  // The dynamic provider launcher and the provider plugin run `node` from PATH: make it the Node that runs these tests.
  // Pulumi YAML's language host is found on PATH too, as the CLI finds it beside itself in a user's install.
  const yamlBinDir = options.projectFiles ? [await ensurePulumiYamlHost()] : [];
  const path = [binDir, ...yamlBinDir, dirname(options.node ?? process.execPath), process.env.PATH ?? ""].join(delimiter);
  const env = {
    PATH: path,
    PULUMI_HOME: pulumiHome,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: options.passphrase ?? "app-backup test passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  if (options.withPlugin) await installProviderPlugin(join(binDir, "pulumi"), env);
  for (const file of options.projectFiles ?? []) await copyFile(file, join(workDir, basename(file)));
  const workspaceOptions = { workDir, pulumiHome, pulumiCommand: command, envVars: env };
  const stack = options.program
    ? await LocalWorkspace.createOrSelectStack({ stackName, projectName, program: options.program }, workspaceOptions)
    : await LocalWorkspace.createOrSelectStack({ stackName, workDir }, workspaceOptions);

  const stateFilePath = join(backendDir, ".pulumi", "stacks", projectName, `${stackName}.json`);
  return {
    stack,
    workDir,
    env,
    backendDir,
    stateFilePath,
    readState: () => readFile(stateFilePath, "utf8"),
    async cleanup() {
      try {
        const resources = (await stack.exportStack()).deployment?.resources ?? [];
        if (resources.length > 0) await stack.destroy();
      } finally {
        await rm(rootDir, { recursive: true, force: true });
      }
    },
  };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
