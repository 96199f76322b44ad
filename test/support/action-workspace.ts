import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const temporaryFolders: string[] = [];

/** A temp folder removed by `removeTemporaryFolders` when the test file ends. */
export async function temporaryFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), prefix));
  temporaryFolders.push(folder);
  return folder;
}

export async function removeTemporaryFolders(): Promise<void> {
  for (const folder of temporaryFolders.splice(0)) await rm(folder, { recursive: true, force: true });
}

/** A checked-out repository (the workspace) holding a small app's home. */
export async function makeWorkspace(): Promise<{ workspace: string; home: string }> {
  const workspace = await temporaryFolder("action-ws-");
  const home = path.join(workspace, "home");
  await mkdir(path.join(home, "site/wwwroot/css"), { recursive: true });
  await mkdir(path.join(home, "site/wwwroot/cache"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n".repeat(50));
  await writeFile(path.join(home, "site/wwwroot/css/site.css"), "body { color: navy }\n");
  await writeFile(path.join(home, "site/wwwroot/cache/page.html"), "cached");
  return { workspace, home };
}

/** Opens the workspace to `nobody`, for steps that run as an unprivileged user. */
export async function shareWithNobody(...folders: string[]): Promise<void> {
  for (const folder of folders) execFileSync("chmod", ["-R", "a+rwX", folder]);
  for (const folder of folders) await chmod(folder, 0o777);
}

/** Entry names and contents of a zip, read with Python's zipfile (an independent reader). */
export function zipEntries(zip: string): Record<string, string> {
  const script = `
import zipfile, json, sys
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: z.read(i).decode("utf-8", "replace") for i in z.infolist()}))`;
  return JSON.parse(execFileSync("python3", ["-c", script, zip], { maxBuffer: 64 * 1024 * 1024 }).toString());
}
