import { afterEach, describe, expect, it, vi } from "vitest";
import { run } from "./main.js";

/** The account key of the `storage` input; a step that cannot start must not print it anywhere. */
const accountKey = "c2VjcmV0LWFjY291bnQta2V5LXZhbHVlLTQy";

const stepEnv: Record<string, string> = {
  INPUT_OPERATION: "list",
  "INPUT_APP-NAME": "shop",
  INPUT_STORAGE: `DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=${accountKey};EndpointSuffix=core.windows.net`,
  INPUT_CONTAINER: "backups",
  // A temp folder that cannot be created: the step fails with a plain Error whose message and stack quote the path.
  RUNNER_TEMP: `/nonexistent/${accountKey}`,
};

const saved: Record<string, string | undefined> = {};
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe("an unexpected error in the Action's main step", () => {
  it("goes to the debug log and the ::error:: annotation with the credentials masked", async () => {
    for (const [name, value] of Object.entries(stepEnv)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    for (const name of ["GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_STATE"]) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
    let printed = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      printed += String(chunk);
      return true;
    });

    await run();

    const commands = printed.split(/\r?\n/).filter((line) => !line.startsWith("::add-mask::"));
    const debug = commands.filter((line) => line.startsWith("::debug::"));
    const errors = commands.filter((line) => line.startsWith("::error::"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("Unexpected error: ENOENT");
    expect(debug.join("\n")).toContain("/nonexistent/***");
    expect(debug.join("\n")).toMatch(/at .*mkdtemp|at async/);
    expect(commands.join("\n")).not.toContain(accountKey);
  });
});
