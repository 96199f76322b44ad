import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { oldestNode } from "../../test/support/oldest-node.js";

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "core", "archive");
const moduleUrl = (name: string) => pathToFileURL(path.join(dist, name)).href;

/**
 * In a fresh process (V8's flags are the process's): the young generation's
 * size once a restore worker is running and the main thread has kept many
 * short-lived objects alive for a while, as a large restore does.
 */
function youngGenerationAfterWorkerStarts(node: string, keepSmall: boolean): number {
  const script = `
    import v8 from "node:v8";
    import { keepYoungGenerationSmall } from ${JSON.stringify(moduleUrl("garbage-collection.js"))};
    import { ExtractPool } from ${JSON.stringify(moduleUrl("extract-pool.js"))};
    if (${keepSmall}) keepYoungGenerationSmall();
    const pool = new ExtractPool(1);
    pool.start("batch", () => {}, false);
    // On a busy machine a worker's engine can take seconds to start, and it sets the flags again when it does.
    for (let waited = 0; ExtractPool.threadsOnline === 0 && waited < 30000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    let kept = [];
    for (let i = 0; i < 3e6; i++) { kept.push({ i, name: "entry-" + i }); if (kept.length > 200000) kept = []; }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    console.log(space.space_size);
    await pool.close();
  `;
  // A plain node process, as the CLI runs in: not the test runner's options.
  const env = { PATH: process.env.PATH ?? "" };
  return Number(execFileSync(node, ["--input-type=module", "-e", script], { encoding: "utf8", env }).trim());
}

describe("keepYoungGenerationSmall", () => {
  const MiB = 1024 * 1024;

  // Node 22 sets the flags again when a worker's engine starts; later releases do not, and must hold too.
  it("still holds once a worker thread has started, on the oldest Node.js supported and on this one", async () => {
    for (const node of [await oldestNode(), process.execPath]) {
      // Mostly 2 MiB; V8 still grows it now and then when a collection cannot place its survivors (seen up to 10.7 MiB).
      expect(youngGenerationAfterWorkerStarts(node, true), node).toBeLessThanOrEqual(16 * MiB);
      // Without it the young generation grows to its maximum (32 MiB on Node 22, 128 MiB on 24): what the setting is there to prevent.
      expect(youngGenerationAfterWorkerStarts(node, false), node).toBeGreaterThanOrEqual(32 * MiB);
    }
  });
});
