import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * CLI tests run the built `app-backup` binary (the bundle), and Pulumi tests install the built
 * provider plugin, the way users do: build both once first.
 *
 * Every temp folder of the run (apps, containers, zips, servers' data) goes under one folder of its
 * own, set as TMPDIR for the test processes and deleted when the run ends, so a run leaves nothing
 * in the machine's temp folder whatever its tests do.
 */
export default function setup(): () => void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const run = (script: string) => execFileSync(process.execPath, [path.join(root, script)], { cwd: root, stdio: "inherit" });
  run("scripts/build-dist.mjs");
  run("scripts/build-plugin.mjs");

  const previous = process.env.TMPDIR;
  const runTemp = mkdtempSync(path.join(os.tmpdir(), "app-backup-tests-"));
  // Open to every user, sticky, as /tmp is: some tests run the CLI as another user.
  chmodSync(runTemp, 0o1777);
  process.env.TMPDIR = runTemp;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    removeAll(runTemp);
  };
}

/** Deletes a tree, including folders tests left read-only. */
function removeAll(folder: string): void {
  try {
    rmSync(folder, { recursive: true, force: true });
  } catch {
    makeWritable(folder);
    rmSync(folder, { recursive: true, force: true });
  }
}

function makeWritable(folder: string): void {
  const info = statSync(folder, { throwIfNoEntry: false });
  if (!info?.isDirectory()) return;
  chmodSync(folder, 0o700);
  for (const entry of readdirSync(folder, { withFileTypes: true })) if (entry.isDirectory()) makeWritable(path.join(folder, entry.name));
}
