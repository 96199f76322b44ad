import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const generated = ["core/archive/deflate-worker-source.ts", "core/archive/extract-worker-source.ts"];

let fresh: string;

beforeAll(async () => {
  fresh = await mkdtemp(path.join(os.tmpdir(), "app-backup-worker-sources-"));
  execFileSync(process.execPath, [path.join(root, "scripts/build-workers.mjs"), fresh], { cwd: root, stdio: "inherit" });
});

afterAll(async () => {
  await rm(fresh, { recursive: true, force: true });
});

describe("compiled worker sources", () => {
  it.each(generated)("%s is what the worker module compiles to", async (file) => {
    const committed = await readFile(path.join(root, file), "utf8");
    const rebuilt = await readFile(path.join(fresh, file), "utf8");
    expect(committed === rebuilt, `${file} is out of date with its worker module: run \`npm run build:workers\``).toBe(true);
  });
});
