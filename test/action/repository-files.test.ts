import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/cli.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const packageJson = JSON.parse(read("package.json")) as { license: string; author: string; scripts: Record<string, string> };
const actionYml = parse(read("action.yml")) as { author: string };

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
const ci = parse(read(".github/workflows/ci.yml")) as { jobs: Record<string, { "runs-on": string; container?: string; steps: Step[] }> };

/** What the README's first shell block says runs the tests: the line ending in `npm test`, its comment dropped. */
function readmeTestCommand(): string {
  const block = /```sh\n([\s\S]*?)```/.exec(read("README.md"))![1]!;
  const line = block.split("\n").find((l) => /npm test\s*(#|$)/.test(l))!;
  return line.replace(/#.*$/, "").trim();
}

/** Every `uses:` of the README and the workflows, with the file it is in. */
function usesLines(): Array<{ file: string; uses: string }> {
  const files = ["README.md", ...[".github/workflows", "examples/workflows"].flatMap((dir) => readdirSync(path.join(repoRoot, dir)).map((f) => `${dir}/${f}`))];
  return files.flatMap((file) => [...read(file).matchAll(/uses:\s*([^\s#]+)/g)].map((m) => ({ file, uses: m[1]! })));
}

describe("what the action's repository holds", () => {
  it("an MIT LICENSE in the name of action.yml's and package.json's author", () => {
    const license = read("LICENSE");
    expect(packageJson.license).toBe("MIT");
    expect(license.split("\n")[0]).toBe("MIT License");
    expect(packageJson.author).toBe(actionYml.author);
    expect(license).toContain(`Copyright (c) 2026 ${actionYml.author}\n`);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });

  it("a CI workflow that runs the README's test command on ubuntu-latest with Node 24, then checks the Action bundle is fresh", () => {
    const jobs = Object.values(ci.jobs);
    expect(jobs).toHaveLength(1);
    const [job] = jobs as [(typeof jobs)[number]];
    expect(job["runs-on"]).toBe("ubuntu-latest");
    expect(job.container).toMatch(/^node:24\b/);
    expect(job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(24);
    const runs = job.steps.map((s) => s.run?.trim()).filter(Boolean);
    expect(readmeTestCommand()).toBe("scripts/setup-tests.sh && npm test");
    expect(runs).toContain(readmeTestCommand());
    expect(runs.indexOf("npm run check:action")).toBeGreaterThan(runs.indexOf(readmeTestCommand()));
    expect(packageJson.scripts["check:action"]).toBeDefined();
  });

  it("every `uses:` pinned to a release tag, the Action's own always contoso/app-backup@v1", () => {
    const uses = usesLines();
    expect(uses.map((u) => u.file)).toEqual(expect.arrayContaining(["README.md", ".github/workflows/ci.yml"]));
    for (const { file, uses: action } of uses) {
      expect(action, file).toMatch(/^[\w.-]+\/[\w.-]+@v\d+(\.\d+){0,2}$/);
      if (action.includes("/app-backup@")) expect(action, file).toBe("contoso/app-backup@v1");
    }
  });

  it("workflows that `npm run lint:workflows` finds clean, this repository's CI among them", { timeout: 600_000 }, async () => {
    expect(packageJson.scripts["lint:workflows"]).toBe("scripts/actionlint.sh");
    const { stdout, stderr } = await promisify(execFile)(path.join(repoRoot, "scripts/actionlint.sh"), ["-verbose"], { cwd: repoRoot });
    expect(stdout).toBe("");
    // -verbose names each file linted: the default set covers .github/workflows as well as the examples.
    expect(stderr).toMatch(/\.github\/workflows\/ci\.yml/);
    expect(stderr).toMatch(/examples\/workflows\/nightly-backup\.yml/);
  });
});
