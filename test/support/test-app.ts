import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { chmod, mkdir, mkdtemp, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runCli } from "./cli.js";

/**
 * Every path under a folder with what a restore must reproduce: kind, content
 * hash, permission bits and modification time (ms), or the link target.
 */
export function treeFacts(root: string): Record<string, string> {
  const facts: Record<string, string> = {};
  const visit = (absolute: string, relative: string) => {
    for (const name of readdirSync(absolute).sort()) {
      const childAbsolute = path.join(absolute, name);
      const childRelative = relative ? `${relative}/${name}` : name;
      const info = lstatSync(childAbsolute);
      const mtime = Math.round(info.mtimeMs);
      if (info.isSymbolicLink()) {
        facts[childRelative] = `link -> ${readlinkSync(childAbsolute)}`;
      } else if (info.isDirectory()) {
        facts[`${childRelative}/`] = `dir ${(info.mode & 0o7777).toString(8)} ${mtime}`;
        visit(childAbsolute, childRelative);
      } else {
        const hash = createHash("sha256").update(readFileSync(childAbsolute)).digest("hex").slice(0, 16);
        facts[childRelative] = `file ${(info.mode & 0o7777).toString(8)} ${mtime} ${info.size} ${hash}`;
      }
    }
  };
  if (existsSync(root)) visit(root, "");
  return facts;
}

/** Folders beside the home that a restore leaves behind (staging, old home, journal): none once it is over. */
export function leftovers(home: string): string[] {
  const base = path.basename(home);
  return readdirSync(path.dirname(home)).filter((name) => name !== base && name.startsWith(`${base}.restore`));
}

const at = (iso: string) => new Date(iso);

export interface TestApp {
  name: string;
  dir: string;
  home: string;
  config: string;
  backups: string;
}

/**
 * A small app with what a restore has to get right: nested folders, an empty
 * folder, a read-only file, an executable, a symlink out of the home and one
 * inside it, and fixed modification times.
 */
export async function makeApp(options: { name?: string; storage?: string; extra?: string; filter?: string; settings?: string } = {}): Promise<TestApp> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "restore-app-"));
  const home = path.join(dir, "home");
  const www = path.join(home, "site/wwwroot");
  await mkdir(path.join(www, "css"), { recursive: true });
  await mkdir(path.join(www, "empty"), { recursive: true });
  await mkdir(path.join(www, "cache"), { recursive: true });
  await mkdir(path.join(home, "data"), { recursive: true });
  await writeFile(path.join(www, "index.html"), "<h1>hello</h1>\n".repeat(200));
  await writeFile(path.join(www, "css/site.css"), "body { color: #333 }\n");
  await writeFile(path.join(www, "cache/page.html"), "cached page");
  await writeFile(path.join(www, "photo.jpg"), Buffer.alloc(70_000, 7));
  await writeFile(path.join(home, "data/readonly.txt"), "do not touch\n");
  await chmod(path.join(home, "data/readonly.txt"), 0o444);
  await writeFile(path.join(home, "data/run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(path.join(home, "data/run.sh"), 0o750);
  await symlink("/etc", path.join(home, "site/etc-link"));
  await symlink("css/site.css", path.join(www, "style.css"));
  if (options.filter !== undefined) await writeFile(path.join(www, "_backup.filter"), options.filter);
  for (const [file, time] of [
    ["site/wwwroot/index.html", "2024-01-02T03:04:05.678Z"],
    ["site/wwwroot/css/site.css", "2024-05-06T07:08:09.500Z"],
    ["site/wwwroot/photo.jpg", "2023-12-24T18:00:00.000Z"],
    ["data/readonly.txt", "2022-02-02T02:02:02.002Z"],
    ["site/wwwroot/css", "2024-05-06T07:08:10.000Z"],
    ["site/wwwroot/empty", "2021-01-01T00:00:00.000Z"],
  ] as const) {
    await utimes(path.join(home, file), at(time), at(time));
  }
  const config = path.join(dir, "app-backup.yml");
  await writeFile(
    config,
    `# the shop's backup configuration
name: ${options.name ?? "shop"}
home: ./home
settings:
  WEBSITE_TIME_ZONE: UTC # keep in UTC
${options.settings ?? ""}backup:
  storage: "${options.storage ?? "file:./backups"}"
${options.extra ?? ""}`,
  );
  return { name: options.name ?? "shop", dir, home, config, backups: path.join(dir, "backups") };
}

/** Backs the app up with the CLI and returns the backup's name: `{app}_{name}` unless `name` already starts so. */
export async function backUp(app: TestApp, name = "b1", env?: NodeJS.ProcessEnv): Promise<string> {
  const full = name.startsWith(`${app.name}_`) ? name : `${app.name}_${name}`;
  const run = await runCli(["backup", "--config", app.config, "--name", full, "--json"], { env });
  if (run.code !== 0 && run.code !== 3) throw new Error(`backup failed (${run.code}): ${run.stderr}`);
  return run.json.name as string;
}

/** Lets the user `nobody` run a backup of the app into its local container: its folder and the container are writable by all. */
export async function shareWithNobody(app: { dir: string; backups: string }): Promise<void> {
  await chmod(app.dir, 0o777);
  await mkdir(app.backups, { recursive: true, mode: 0o777 });
  await chmod(app.backups, 0o777);
}
