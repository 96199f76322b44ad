// Builds dist/: the engine, the provider and the CLI's modules with tsc, then
// the `app-backup` binary as a bundle (scripts/build-cli.mjs), then libdeflate's
// binding where gcc and libdeflate-dev are installed (scripts/build-libdeflate-binding.sh;
// without them backups deflate with zlib). What the tests and the benchmarks
// run, built the way `npm run build` builds it.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = (script, ...args) => execFileSync(process.execPath, [path.join(root, script), ...args], { cwd: root, stdio: "inherit" });

run("node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json");
run("scripts/build-cli.mjs");
execFileSync(path.join(root, "scripts/build-libdeflate-binding.sh"), { cwd: root, stdio: "inherit" });
