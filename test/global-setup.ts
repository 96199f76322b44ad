import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** CLI tests run the built `app-backup` binary (the bundle), the way users do: build it once first. */
export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  execFileSync(process.execPath, [path.join(root, "scripts/build-dist.mjs")], { cwd: root, stdio: "inherit" });
}
