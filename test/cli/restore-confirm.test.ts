import { spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, runCli } from "../support/cli.js";
import { backUp, makeApp, treeFacts, type TestApp } from "../support/test-app.js";

/** An app backed up, then changed: a new file the restore would delete, and an edited one it would overwrite. */
async function changedApp(): Promise<{ app: TestApp; name: string; backedUp: Record<string, string> }> {
  const app = await makeApp();
  const name = await backUp(app);
  const backedUp = treeFacts(app.home);
  await writeFile(path.join(app.home, "site/wwwroot/new-upload.txt"), "written after the backup");
  await writeFile(path.join(app.home, "site/wwwroot/css/site.css"), "body { color: red }\n");
  return { app, name, backedUp };
}

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), so stdin, stdout and
 * stderr are a terminal as for a person; `answer` is typed once the question
 * shows. Resolves to the exit code and everything the terminal showed.
 */
function onTerminal(args: string[], answer?: string): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, cliPath, ...args].map(shellQuote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    let answered = false;
    child.stdout.on("data", (chunk) => {
      screen += chunk;
      if (!answered && answer !== undefined && screen.includes("[y/N]")) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.stderr.on("data", (chunk) => (screen += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, screen }));
  });
}

describe("restore on a terminal", () => {
  it("shows what it will write and delete, and on a no leaves the home byte for byte as it was", async () => {
    const { app, name } = await changedApp();
    const before = treeFacts(app.home);
    const run = await onTerminal(["restore", name, "--config", app.config], "n");
    expect(run.screen).toContain(`Restoring ${name} into shop`);
    expect(run.screen).toMatch(/delete 1 paths that are not in the backup/);
    expect(run.screen).toContain("and restore no database.");
    expect(run.screen).toContain("Proceed? [y/N]");
    expect(run.screen).toContain("Nothing was restored.");
    expect(run.code).toBe(1);
    expect(treeFacts(app.home)).toEqual(before);
  });

  it("restores on a yes", async () => {
    const { app, name, backedUp } = await changedApp();
    const run = await onTerminal(["restore", name, "--config", app.config], "y");
    expect(run.screen).toContain("Proceed? [y/N]");
    expect(run.code).toBe(0);
    expect(treeFacts(app.home)).toEqual(backedUp);
  });

  it("never asks with --yes, nor off a terminal", async () => {
    const { app, name, backedUp } = await changedApp();
    const run = await onTerminal(["restore", name, "--config", app.config, "--yes"]);
    expect(run.screen).not.toContain("[y/N]");
    expect(run.code).toBe(0);
    expect(treeFacts(app.home)).toEqual(backedUp);

    await rm(path.join(app.home, "site/wwwroot/index.html"));
    const scripted = await runCli(["restore", name, "--config", app.config]);
    expect(scripted.code).toBe(0);
    expect(scripted.stdout + scripted.stderr).not.toContain("[y/N]");
    expect(treeFacts(app.home)).toEqual(backedUp);
  });
});
