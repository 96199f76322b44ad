import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { inputNames, operations } from "./inputs.js";
import { outputNames } from "./reporter.js";
import { repoRoot } from "../../test/support/cli.js";

interface ActionMetadata {
  name?: unknown;
  description?: unknown;
  author?: unknown;
  branding?: { icon?: unknown; color?: unknown };
  inputs?: Record<string, { description?: unknown; required?: unknown; default?: unknown }>;
  outputs?: Record<string, { description?: unknown }>;
  runs?: { using?: unknown; main?: unknown; post?: unknown; pre?: unknown };
}

const metadata = parse(readFileSync(path.join(repoRoot, "action.yml"), "utf8")) as ActionMetadata;

/**
 * actionlint checks workflows, not an action's own metadata: these are the rules
 * the runner and the Marketplace apply to action.yml.
 */
describe("action.yml", () => {
  it("has the keys the runner and the Marketplace require, and no others", () => {
    expect(Object.keys(metadata).sort()).toEqual(["author", "branding", "description", "inputs", "name", "outputs", "runs"]);
    expect(metadata.name).toBe("app-backup");
    expect(typeof metadata.description).toBe("string");
    // The Marketplace shows at most 125 characters.
    expect((metadata.description as string).length).toBeLessThanOrEqual(125);
    expect(metadata.branding).toEqual({ icon: expect.any(String), color: expect.stringMatching(/^(white|black|yellow|blue|green|orange|red|purple|gray-dark)$/) });
  });

  it("runs the committed bundle on Node 24 with a post step", () => {
    expect(metadata.runs).toEqual({ using: "node24", main: "action/dist/index.js", post: "action/dist/post.js" });
    for (const file of [metadata.runs!.main, metadata.runs!.post] as string[]) {
      expect(existsSync(path.join(repoRoot, file)), `${file} exists`).toBe(true);
    }
  });

  it("declares exactly the inputs the Action reads, each with a description", () => {
    expect(Object.keys(metadata.inputs!).sort()).toEqual([...inputNames].sort());
    for (const [name, input] of Object.entries(metadata.inputs!)) {
      expect(Object.keys(input).every((key) => ["description", "required", "default", "deprecationMessage"].includes(key)), name).toBe(true);
      expect(typeof input.description === "string" && input.description.trim().length > 20, `input ${name} is described`).toBe(true);
      expect(input.required, `input ${name}: required is false (config or inline inputs, checked at run time)`).toBe(false);
      if (input.default !== undefined) expect(typeof input.default, `input ${name}: defaults are strings`).toBe("string");
    }
    expect(metadata.inputs!.operation!.default).toBe("backup");
    for (const operation of operations) expect(metadata.inputs!.operation!.description).toContain(`\`${operation}\``);
  });

  it("declares exactly the outputs the Action sets, each with a description", () => {
    expect(Object.keys(metadata.outputs!).sort()).toEqual([...outputNames].sort());
    for (const [name, output] of Object.entries(metadata.outputs!)) {
      expect(Object.keys(output), name).toEqual(["description"]);
      expect(typeof output.description === "string" && output.description.trim().length > 20, `output ${name} is described`).toBe(true);
    }
  });
});
