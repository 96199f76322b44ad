// Builds dist/: the engine, the provider and the CLI's modules with tsc, then
// the `app-backup` binary as a bundle (scripts/build-cli.mjs). What the tests
// and the benchmarks run, built the way `npm run build` builds it.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = (script, ...args) => execFileSync(process.execPath, [path.join(root, script), ...args], { cwd: root, stdio: "inherit" });

run("node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json");
run("scripts/build-cli.mjs");
