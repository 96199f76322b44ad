import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { runCli, type CliRun } from "./cli.js";

export interface ScheduledApp {
  dir: string;
  home: string;
  config: string;
  backups: string;
  /** Rewrites the configuration file with another `backup:` body (storage is kept). */
  rewrite(backupBody: string): Promise<void>;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
}

/**
 * A small app whose configuration declares a schedule; `schedule` is the YAML
 * flow mapping of backup.schedule, `storage` a URL or a YAML flow mapping.
 */
export async function makeScheduledApp(
  options: { storage?: string; backupBody?: string; schedule?: string; app?: string; topLevel?: string } = {},
): Promise<ScheduledApp> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sched-"));
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n");
  const config = path.join(dir, "app-backup.yml");
  const storage = options.storage ?? "file:./backups";
  const write = (backupBody: string) =>
    writeFile(config, `name: ${options.app ?? "shop"}\nhome: ./home\n${options.topLevel ?? ""}backup:\n  storage: ${storage.startsWith("{") ? storage : `"${storage}"`}\n${backupBody}`);
  await write(options.backupBody ?? `  schedule: ${options.schedule ?? "{ frequencyInterval: 1, frequencyUnit: Day }"}\n`);
  return {
    dir,
    home,
    config,
    backups: path.join(dir, "backups"),
    rewrite: write,
    run: (args, env) => runCli([...args, "--config", config], { env }),
  };
}

/** Runs a command that must succeed, and returns its JSON result. */
export async function ok(app: ScheduledApp, args: string[], env?: NodeJS.ProcessEnv): Promise<any> {
  const run = await app.run([...args, "--json"], env);
  expect(run.stderr.split("\n").filter((l) => l.startsWith("error"))).toEqual([]);
  expect(run.code).toBe(0);
  return run.json;
}

/** The names of the completed backups (manifests) in a local container, sorted. */
export async function localBackupNames(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith(".xml"))
    .map((n) => n.slice(0, -4))
    .sort();
}

/**
 * Content that takes the backup a few seconds to compress: base64 text of
 * random bytes, which deflates (by a quarter) but slowly.
 */
export async function addSlowContent(home: string, megabytes: number): Promise<void> {
  const stream = createWriteStream(path.join(home, "site/wwwroot/data.txt"));
  for (let i = 0; i < megabytes; i++) {
    const chunk = randomBytes(768 * 1024).toString("base64");
    if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    stream.once("error", reject);
    stream.end(() => resolve());
  });
}
