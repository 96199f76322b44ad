import { execFile } from "node:child_process";
import { access, constants, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const runFile = promisify(execFile);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The version of the provider plugin: the package's. */
export async function pluginVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
}

/** What `npm run build:plugin` writes (the test setup runs it): the plugin tarball and the package schema. */
export async function pluginFiles(): Promise<{ tarball: string; schema: string }> {
  const dir = join(repoRoot, "dist/plugin");
  const files = { tarball: join(dir, `pulumi-resource-app-backup-v${await pluginVersion()}-linux-amd64.tar.gz`), schema: join(dir, "schema.json") };
  for (const file of Object.values(files)) {
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new Error(`${file} is missing: run \`npm run build:plugin\` in ${repoRoot}.`);
    }
  }
  return files;
}

/** `pulumi plugin install resource app-backup {version} --file TARBALL`, into the Pulumi home of `env`. */
export async function installProviderPlugin(pulumi: string, env: Record<string, string>): Promise<void> {
  const { tarball } = await pluginFiles();
  await runFile(pulumi, ["plugin", "install", "resource", "app-backup", await pluginVersion(), "--file", tarball], { env: { ...process.env, ...env } });
}

async function builtBy(script: string, what: string, timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await runFile(join(repoRoot, "scripts", script), [], { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim().split("\n").pop()!;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`Setting up ${what} with scripts/${script} failed; run it by hand to see why.\n${stderr.slice(-4000)}`);
  }
}

let yamlHost: Promise<string> | undefined;

/** The folder holding `pulumi-language-yaml`, built from source first when it is not cached (setup-tests.sh builds it). */
export function ensurePulumiYamlHost(): Promise<string> {
  yamlHost ??= builtBy("build-pulumi-yaml.sh", "Pulumi YAML's language host", 20 * 60_000);
  return yamlHost;
}

let python: Promise<string> | undefined;

/** The Python virtual environment with Pulumi's SDK (setup-tests.sh creates it). */
export function pythonEnvironment(): Promise<string> {
  python ??= builtBy("setup-python.sh", "the Python environment", 10 * 60_000);
  return python;
}

/**
 * The Python SDK of the plugin's schema, written by Pulumi's Python code generator (the one `pulumi package
 * gen-sdk --language python` runs inside the pulumi-language-python host, which cannot be built here: see
 * scripts/pulumi/gen-python-sdk) and installed with pip as a user installs it, into a folder of its own.
 * Returns the folder to put on PYTHONPATH; its parent is the caller's to remove.
 */
export async function installedPythonSdk(binDir: string, venv: string): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), "app-backup-python-sdk-"));
  const { schema } = await pluginFiles();
  await runFile(join(binDir, "pulumi-gen-python-sdk"), [schema, out]);
  const site = join(out, "site-packages");
  // Offline: the environment already holds the SDK's dependencies and the build tools.
  const pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-build-isolation", "--no-index", "--target", site];
  await runFile(join(venv, "bin/python"), [...pip, join(out, "python")]);
  return site;
}
