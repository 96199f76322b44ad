import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * CLI tests run the built `app-backup` binary (the bundle), and Pulumi tests install the built
 * provider plugin, the way users do: build both once first.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const run = (script: string) => execFileSync(process.execPath, [path.join(root, script)], { cwd: root, stdio: "inherit" });
  run("scripts/build-dist.mjs");
  run("scripts/build-plugin.mjs");
}
