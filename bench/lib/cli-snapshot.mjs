import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";

/**
 * A private copy of the built dist/ for one long benchmark run, so that a rebuild while it runs (the
 * CLI loads a command's modules only when that command runs) cannot swap files under it. It sits
 * inside the checkout, so that the CLI still finds node_modules; removed when the process exits.
 * Returns the copy's CLI entry, or undefined when dist/ is not built.
 */
export function snapshotCli(repoRoot) {
  const dist = path.join(repoRoot, "dist");
  if (!existsSync(path.join(dist, "cli", "app-backup.mjs"))) return undefined;
  const copy = path.join(repoRoot, ".cache", "bench", `dist-${process.pid}`);
  mkdirSync(copy, { recursive: true });
  cpSync(dist, path.join(copy, "dist"), { recursive: true, verbatimSymlinks: true });
  process.on("exit", () => rmSync(copy, { recursive: true, force: true }));
  return path.join(copy, "dist", "cli", "app-backup.mjs");
}
