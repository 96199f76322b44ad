import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const runFile = promisify(execFile);
const script = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "scripts/fetch-node.sh");

let node: Promise<string> | undefined;

/** The `node` of the oldest Node.js release app-backup supports (scripts/fetch-node.sh; setup-tests.sh fetches it). */
export function oldestNode(): Promise<string> {
  node ??= runFile(script, [], { timeout: 5 * 60_000 }).then(
    ({ stdout }) => stdout.trim().split("\n").pop()!,
    (error: { stderr?: string }) => {
      throw new Error(`Fetching the oldest supported Node.js with ${script} failed; run it by hand to see why.\n${error.stderr ?? ""}`);
    },
  );
  return node;
}
