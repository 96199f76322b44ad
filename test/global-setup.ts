import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * CLI tests run the built `app-backup` binary, and Pulumi tests install the built provider plugin,
 * the way users do: build both once first.
 */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  run([path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"]);
  run([path.join(root, "scripts/build-plugin.mjs")]);
}
