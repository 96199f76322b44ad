import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { exitCodeTable } from "../../cli/exit-codes.js";
import { createProgram } from "../../cli/main.js";
import { runCli } from "../support/cli.js";

const quietIo = () => ({
  stdout: new PassThrough(),
  stderr: new PassThrough() as unknown as NodeJS.WriteStream,
  env: {},
});

/** Every command path of the program: ["backup"], ["config", "show"], ... */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return sub.commands.length > 0 ? [path, ...commandPaths(sub, path)] : [path];
  });
}

/** The example command lines of a help text (`$ app-backup ...`). */
const examplesIn = (help: string) =>
  help
    .split("\n")
    .filter((line) => line.startsWith("  $ "))
    .map((line) => line.slice(4));

/** Splits a command line as a POSIX shell does for the quoting the examples use (single quotes). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The command an example runs, with its options parsed by commander as a run would parse them (without running it). */
function parseExample(line: string): { command: Command; operands: string[]; unknown: string[] } {
  const [binary, ...argv] = words(line);
  expect(binary).toBe("app-backup");
  let command = createProgram(quietIo(), () => {});
  while (argv.length > 0 && command.commands.some((sub) => sub.name() === argv[0])) {
    command = command.commands.find((sub) => sub.name() === argv[0])!;
    argv.shift();
  }
  const { operands, unknown } = command.parseOptions(argv);
  return { command, operands, unknown };
}

const tableLines = exitCodeTable.map(({ code, meaning }) => new RegExp(`^  ${code} +${meaning.replace(/[()]/g, "\\$&")}$`, "m"));

describe("--help", () => {
  const program = createProgram(quietIo(), () => {});
  const paths = commandPaths(program);

  it("of the program ends with the exit codes, the environment and where the configuration is looked for", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    for (const line of tableLines) expect(run.stdout).toMatch(line);
    expect(run.stdout).toMatch(/^Environment:\n {2}APP_BACKUP_LOCK_TTL_SECONDS/m);
    expect(run.stdout).toContain("APP_BACKUP_STORAGE_TIMEOUT_MS");
    expect(run.stdout).toContain("AZURE_CLIENT_ID");
    expect(run.stdout).toContain("app-backup.yml in the current directory, unless --config FILE names another");
  });

  it.each(paths.map((path) => [path.join(" "), path]))("of %s shows runnable examples, the exit codes and the environment", async (_name, path) => {
    const run = await runCli([...path, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const examples = examplesIn(run.stdout);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(examples.length).toBeLessThanOrEqual(3);
    for (const example of examples) {
      const parsed = parseExample(example);
      // Every example is a real command line: its command, its options and its arguments exist.
      expect(parsed.unknown, example).toEqual([]);
      // The `config` group's examples are those of `config show`.
      expect(parsed.command.name(), example).toBe(path[0] === "config" ? "show" : path.at(-1));
      expect(parsed.operands.length, example).toBeLessThanOrEqual(parsed.command.registeredArguments.length);
    }
    for (const line of tableLines) expect(run.stdout).toMatch(line);
    expect(run.stdout).toContain("APP_BACKUP_LOCK_TTL_SECONDS");
    expect(run.stdout).toContain("--config FILE");
  });

  it("finds an example with an unknown flag or command", () => {
    expect(parseExample("app-backup backup --no-such-flag").unknown).toEqual(["--no-such-flag"]);
    expect(parseExample("app-backup restore latest --dry-run extra").operands).toEqual(["latest", "extra"]);
  });
});
