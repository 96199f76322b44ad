import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

describe("the binary on a Node.js older than it supports", () => {
  it("says which Node.js it needs, exits 2 and does nothing", async () => {
    // Node.js before 22.3 (and 20.16) has no process.getBuiltinModule, which the binary needs first.
    const run = await runCli(["--version"], { env: { NODE_OPTIONS: '--import="data:text/javascript,delete process.getBuiltinModule"' } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error: app-backup needs Node\.js 22\.3 or later, and this is Node\.js \d+\.\d+\.\d+\.\nInstall Node\.js 22 or 24/);
  });
});
