import { execFile } from "node:child_process";
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { builtinModules } from "node:module";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { removeTemporaryFolders, temporaryFolder } from "../support/action-workspace.js";

afterAll(removeTemporaryFolders);

const run = promisify(execFile);

async function checkBundle(bundleDir?: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(path.join(repoRoot, "scripts/check-action-bundle.sh"), bundleDir ? [bundleDir] : [], { cwd: repoRoot });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

const isBuiltin = (specifier: string) => specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!) || builtinModules.includes(specifier);

describe("action/dist", () => {
  it("is the bundle of the current sources", { timeout: 300_000 }, async () => {
    const result = await checkBundle();
    expect(result.output).toContain("action/dist matches a fresh build.");
    expect(result.code).toBe(0);
  });

  it("is self-contained: no import of a package, only of Node's built-ins", async () => {
    for (const entry of ["index.js", "post.js"]) {
      const text = await readFile(path.join(repoRoot, "action/dist", entry), "utf8");
      const imported = new Set([...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!));
      // A require() left to run time may only load built-ins, or pg's optional native binding (loaded only with NODE_PG_FORCE_NATIVE).
      const required = new Set([...text.matchAll(/\b__require\("([^"]+)"\)/g)].map((m) => m[1]!));
      // Both patterns must still find what the bundle loads, or the check below would pass on nothing.
      expect([...imported].filter(isBuiltin).length, `${entry}: no import of a built-in found`).toBeGreaterThan(0);
      expect([...required].filter(isBuiltin).length, `${entry}: no require() of a built-in found`).toBeGreaterThan(0);
      for (const specifier of [...imported, ...required]) {
        expect(isBuiltin(specifier) || specifier === "pg-native", `${entry} loads ${specifier}`).toBe(true);
      }
    }
  });

  it("check-action-bundle.sh fails, saying what to run, when the committed bundle is not the fresh build", { timeout: 300_000 }, async () => {
    const stale = await temporaryFolder("stale-bundle-");
    await cp(path.join(repoRoot, "action/dist"), stale, { recursive: true });
    const post = path.join(stale, "post.js");
    await writeFile(post, (await readFile(post, "utf8")).replace("left behind by an interrupted app-backup step", "left by an older build"));
    const result = await checkBundle(stale);
    expect(result.code).toBe(1);
    expect(result.output).toContain(`${stale} is not the bundle of the current sources:`);
    expect(result.output).toContain("post.js");
    expect(result.output).toContain("Run `npm run build:action` and commit action/dist/.");
  });
});
