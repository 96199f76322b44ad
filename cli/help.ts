import type { Command } from "commander";
import { exitCodeTable, lockTtlEnvVar, storageRetryDelayEnvVar, storageTimeoutEnvVar } from "../core/index.js";
import { alignedRows } from "./table.js";

/** Every environment variable the program reads itself, with what it changes. */
export const environmentVariables: ReadonlyArray<{ name: string; meaning: string }> = [
  { name: lockTtlEnvVar, meaning: "seconds a run's lock and a backup's name claim live without renewal (default 60)" },
  { name: storageTimeoutEnvVar, meaning: "deadline of one storage call with its retries, in ms (default 180000)" },
  { name: storageRetryDelayEnvVar, meaning: "first pause before a storage call is tried again, in ms (default 400)" },
  { name: "AZURE_TENANT_ID, AZURE_CLIENT_ID", meaning: "the Entra ID app a storage given as {accountUrl, container} signs in as" },
  { name: "AZURE_CLIENT_SECRET", meaning: "that app's secret (or AZURE_CLIENT_CERTIFICATE_PATH: its certificate)" },
  { name: "AZURE_FEDERATED_TOKEN_FILE", meaning: "a federated (workload identity) token instead of a secret" },
  { name: "${env:NAME} in the configuration", meaning: "any variable a configuration value names is read when it is loaded" },
];

/** A command line of an example and what it does. */
export interface HelpExample {
  command: string;
  does: string;
}

/** Where the configuration of the app comes from, per command. */
export type ConfigSource = "file" | "file-or-flags";

function section(title: string, lines: string[]): string {
  return [`${title}:`, ...lines.map((line) => `  ${line}`)].join("\n");
}

export function exitCodesHelp(): string {
  return section("Exit codes", alignedRows(exitCodeTable.map(({ code, meaning }) => [String(code), meaning])));
}

export function environmentHelp(): string {
  return section("Environment", alignedRows(environmentVariables.map(({ name, meaning }) => [name, meaning])));
}

export function configurationHelp(source: ConfigSource): string {
  const lines = [
    "app-backup.yml in the current directory, unless --config FILE names another",
    "(YAML or JSON; relative paths in it are relative to the file).",
  ];
  if (source === "file-or-flags") {
    lines.push("Without a file, flags describe the app: --app NAME --storage URL [--container NAME],");
    lines.push("with --home DIR [--database NAME=TYPE:CONNSTRING]... for backup and restore,");
    lines.push("and [--filter LINE]... [--max-size SIZE] for backup; --config cannot be combined with them.");
  }
  return section("Configuration", lines);
}

export function examplesHelp(examples: readonly HelpExample[]): string {
  return section("Examples", examples.flatMap(({ command, does }) => [`# ${does}`, `$ ${command}`]));
}

/** The text after the program's own help: exit codes, environment, configuration. */
export function programHelpText(): string {
  return `\n${[exitCodesHelp(), environmentHelp(), configurationHelp("file-or-flags")].join("\n\n")}\n`;
}

/** The text after a command's help: its examples, then what every command shares. */
export function commandHelpText(examples: readonly HelpExample[], source: ConfigSource = "file"): string {
  return `\n${[examplesHelp(examples), exitCodesHelp(), environmentHelp(), configurationHelp(source)].join("\n\n")}\n`;
}

/**
 * Adds the examples and the shared sections after the command's help, through
 * commander's own help; written when the help is shown, not on every run.
 */
export function withHelp(command: Command, examples: readonly HelpExample[], source: ConfigSource = "file"): Command {
  return command.addHelpText("after", () => commandHelpText(examples, source));
}
