/**
 * `npm run bench`: builds the engine, then runs every benchmark, each against
 * its peer tool in the same run, and prints each bar's PASS/FAIL line again at
 * the end. Exits 1 if any bar fails.
 *
 *   npm run bench                     # all
 *   npm run bench -- content restore  # some: content, restore, scale, sftp, db-postgres, db-mariadb, catalog
 */
import { spawn, execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const all = ["content", "restore", "scale", "sftp", "db-postgres", "db-mariadb", "catalog", "startup"];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`Unknown benchmark "${name}"; choose from ${all.join(", ")}.`);
    process.exit(2);
  }
}

execFileSync(process.execPath, [path.join(repoRoot, "scripts/build-dist.mjs")], { cwd: repoRoot, stdio: "inherit" });

const verdicts = [];
let failed = false;
for (const name of chosen) {
  console.log(`\n=== ${name} ===`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ["--expose-gc", path.join(repoRoot, "bench", `${name}.mjs`)], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      for (const line of chunk.toString().split("\n")) if (/\b(PASS|FAIL)\b/.test(line)) verdicts.push(`${name}: ${line.trim()}`);
    });
    child.on("close", resolve);
  });
  if (code !== 0) failed = true;
}

console.log("\n=== summary ===");
for (const line of verdicts) console.log(line);
process.exit(failed ? 1 : 0);
