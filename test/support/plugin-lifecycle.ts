import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import type { Azurite } from "./azurite.js";
import { blobNamesIn } from "./azurite-blobs.js";
import { makeAppHome, backendFiles } from "./provider-engine.js";
import type { PulumiTestStack } from "./pulumi.js";
import { installedPythonSdk, installProviderPlugin, pythonEnvironment } from "./pulumi-plugin.js";
import { pulumiCli } from "./pulumi.js";

const runFile = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

type Changes = Record<string, number>;

/** The commands a Pulumi user runs on a stack, whatever language its program is in. */
export interface LifecycleStack {
  setConfig(key: string, value: string, secret?: boolean): Promise<void>;
  up(): Promise<{ outputs: Record<string, unknown>; changes: Changes }>;
  preview(): Promise<Changes>;
  refresh(): Promise<Changes>;
  /** `pulumi stack export`, as text. */
  exportText(): Promise<string>;
  destroy(): Promise<void>;
  /** The `file://` backend's folder: state, history and its backups. */
  backendDir: string;
  cleanup(): Promise<void>;
}

/** `pulumi stack export` as a user runs it: secrets stay encrypted unless asked for with --show-secrets. */
async function stackExport(workDir: string, env: Record<string, string>): Promise<string> {
  const { binDir } = await pulumiCli();
  const { stdout } = await runFile(join(binDir, "pulumi"), ["stack", "export", "--stack", "test"], { cwd: workDir, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** A stack driven by Node's Automation API: an inline TypeScript program, or a program folder `pulumi` runs (YAML). */
export function nodeLifecycleStack(target: PulumiTestStack): LifecycleStack {
  const { stack } = target;
  return {
    setConfig: (key, value, secret = false) => stack.setConfig(key, { value, secret }),
    async up() {
      const result = await stack.up();
      return { outputs: Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value])), changes: result.summary.resourceChanges ?? {} };
    },
    preview: async () => (await stack.preview()).changeSummary,
    refresh: async () => (await stack.refresh()).summary.resourceChanges ?? {},
    exportText: () => stackExport(target.workDir, target.env),
    destroy: async () => void (await stack.destroy()),
    backendDir: target.backendDir,
    cleanup: () => target.cleanup(),
  };
}

/**
 * A stack whose program is a Python file, run inline by Python's Automation API
 * (test/support/pulumi-python-stack.py) in the environment scripts/setup-python.sh
 * makes, with the SDK `pulumi package gen-sdk --language python` generates from the
 * plugin's schema, and the plugin installed from its tarball.
 */
export async function pythonLifecycleStack(options: { program: string; projectName: string }): Promise<LifecycleStack> {
  const [{ binDir }, venv] = await Promise.all([pulumiCli(), pythonEnvironment()]);
  const pulumi = join(binDir, "pulumi");
  const sdk = await installedPythonSdk(binDir, venv);
  const rootDir = await mkdtemp(join(tmpdir(), "app-backup-pulumi-python-"));
  const [backendDir, pulumiHome, workDir] = ["backend", "home", "work"].map((name) => join(rootDir, name)) as [string, string, string];
  await Promise.all([backendDir, pulumiHome, workDir].map((dir) => mkdir(dir)));
  const env = {
    PATH: [binDir, dirname(process.execPath), process.env.PATH ?? ""].join(":"),
    PULUMI_HOME: pulumiHome,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "app-backup test passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  await installProviderPlugin(pulumi, env);
  let removed = false;

  async function run(command: string, extra: Record<string, unknown> = {}): Promise<any> {
    const request = { command, ...extra, program: options.program, projectName: options.projectName, stackName: "test", workDir, pulumiHome, env, pulumiRoot: dirname(binDir) };
    try {
      const { stdout } = await runFile(join(venv, "bin/python"), [join(repoRoot, "test/support/pulumi-python-stack.py"), JSON.stringify(request)], {
        env: { ...process.env, ...env, PYTHONPATH: sdk },
        maxBuffer: 64 * 1024 * 1024,
      });
      return JSON.parse(stdout.trim().split("\n").pop()!);
    } catch (error) {
      const { stderr = "", stdout = "" } = error as { stderr?: string; stdout?: string };
      throw new Error(`pulumi ${command} of the Python program failed:\n${stdout}\n${stderr}`);
    }
  }

  return {
    setConfig: (key, value, secret = false) => run("set-config", { key, value, secret }),
    up: () => run("up"),
    preview: async () => (await run("preview")).changes,
    refresh: async () => (await run("refresh")).changes,
    exportText: () => stackExport(workDir, env),
    destroy: () => run("destroy"),
    backendDir,
    async cleanup() {
      if (removed) return;
      removed = true;
      try {
        const deployment = (await run("export")).deployment as { resources?: unknown[] };
        if ((deployment.resources ?? []).length > 0) await run("destroy");
      } finally {
        await Promise.all([rm(rootDir, { recursive: true, force: true }), rm(dirname(sdk), { recursive: true, force: true })]);
      }
    },
  };
}

/** Only resources that stay as they are. */
function onlySame(changes: Changes): Changes {
  return Object.fromEntries(Object.entries(changes).filter(([kind, count]) => kind !== "same" && count > 0));
}

export interface LifecycleOptions {
  azurite: () => Azurite;
  /** The stack, with the program's config keys appHome, releaseVersion and (secret) the storage key set by the test. */
  stack: (context: { workDir: string }) => Promise<LifecycleStack>;
  /** The config key the program takes its storage from: `backupStorage`, or the provider's `app-backup:storage`. */
  storageKey: string;
  container: string;
}

/**
 * What a user of the plugin checks in any language: `up` stores the
 * configuration and takes a snapshot, a second preview and a refresh change
 * nothing, new triggers take a new snapshot and keep the old one, no secret
 * reaches the state, a bad input fails naming it, and destroy keeps every backup.
 */
export function describePluginLifecycle(options: LifecycleOptions): void {
  let stack: LifecycleStack;
  let workDir: string;
  let sasUrl: string;
  const backups: string[] = [];
  const configurationBlob = "shop.backup-config.json";
  const backupBlobs = () => backups.flatMap((name) => [`${name}.log`, `${name}.xml`, `${name}.zip`]);

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "app-backup-plugin-"));
    sasUrl = await options.azurite().containerWithSas(options.container);
    stack = await options.stack({ workDir });
    await stack.setConfig("appHome", await makeAppHome(workDir));
    await stack.setConfig("releaseVersion", "1.0.0");
    await stack.setConfig(options.storageKey, sasUrl, true);
  });
  afterAll(async () => {
    await stack?.cleanup();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("up stores the configuration and takes a snapshot", async () => {
    const { outputs } = await stack.up();
    const accountUrl = options.azurite().accountUrl;
    expect(outputs.configurationUrl).toBe(`${accountUrl}/${options.container}/${configurationBlob}`);
    expect(outputs.releaseBackupStatus).toBe("Succeeded");
    const name = outputs.releaseBackup as string;
    expect(name).toMatch(/^shop_\d{14}$/);
    expect(outputs.releaseBackupZip).toBe(`${accountUrl}/${options.container}/${name}.zip`);
    backups.push(name);
    expect(await blobNamesIn(options.azurite(), options.container)).toEqual([configurationBlob, ...backupBlobs()].sort());
  });

  it("a second preview shows no changes", async () => {
    expect(onlySame(await stack.preview())).toEqual({});
  });

  it("refresh finds the configuration and the backup as they are", async () => {
    expect(onlySame(await stack.refresh())).toEqual({});
    expect(onlySame(await stack.preview())).toEqual({});
  });

  it("new triggers take a new snapshot and keep the old one", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100)); // backups are named to the second
    await stack.setConfig("releaseVersion", "2.0.0");
    const { outputs, changes } = await stack.up();
    expect(onlySame(changes)).toEqual({ replace: 1 });
    expect(outputs.releaseBackup).not.toBe(backups[0]);
    backups.push(outputs.releaseBackup as string);
    expect(await blobNamesIn(options.azurite(), options.container)).toEqual([configurationBlob, ...backupBlobs()].sort());
  });

  it("keeps the SAS token out of the state, its export and its history", async () => {
    const signature = new URL(sasUrl).searchParams.get("sig")!;
    const query = sasUrl.slice(sasUrl.indexOf("?") + 1);
    const exported = await stack.exportText();
    expect(exported).toContain("ciphertext");
    for (const text of [exported, ...(await backendFiles(stack.backendDir)).values()]) {
      expect(text).not.toContain(signature);
      expect(text).not.toContain(encodeURIComponent(signature));
      expect(text).not.toContain(query);
    }
  });

  it("a bad input fails up with a message naming the input", async () => {
    await stack.setConfig("appName", "not a name!");
    await expect(stack.up()).rejects.toThrow(/name: expected letters, digits and hyphens/);
    await stack.setConfig("appName", "shop");
    expect(onlySame(await stack.preview())).toEqual({});
  });

  it("destroy removes the configuration and keeps every backup", async () => {
    await stack.destroy();
    expect(await blobNamesIn(options.azurite(), options.container)).toEqual(backupBlobs().sort());
  });
}
