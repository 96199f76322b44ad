import type { Command } from "commander";

/** The configuration file used when neither --config nor app flags are given. */
export const defaultConfigFile = "app-backup.yml";

/**
 * Which flags describe the app without a file: `backup` reads the home and
 * dumps the databases; `restore` writes them; the others only find the backups.
 */
export type AppFlagSet = "backup" | "restore" | "storage";

/** The flags a command line gives, whichever of them the command has. */
export interface AppFlags {
  config?: string;
  app?: string;
  home?: string;
  storage?: string;
  container?: string;
  database?: string[];
  filter?: string[];
  maxSize?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds --config and the flags that describe the app without a file. */
export function addAppFlags(command: Command, set: AppFlagSet, configHelp = `the app's ${defaultConfigFile} (default: ${defaultConfigFile})`): Command {
  command.option("-c, --config <file>", configHelp);
  command.option("--app <name>", "the app's name, when no configuration file describes it");
  if (set !== "storage") command.option("--home <dir>", "the app's home folder, when no configuration file describes it");
  command.option("--storage <url>", "where the backups are: a container SAS URL, file:FOLDER, a connection string or an account URL");
  command.option("--container <name>", "the blob container, when --storage is a connection string or an account URL");
  if (set !== "storage") {
    // Parsed once the command runs, so a malformed value is reported without being echoed.
    command.option("--database <name=type:connstring>", "a database (repeatable); TYPE is PostgreSql, MySql, LocalMySql or SqlAzure", collect);
  }
  if (set === "backup") {
    command.option("--filter <line>", "a _backup.filter line (repeatable); replaces the home's _backup.filter", collect);
    command.option("--max-size <size>", 'the backup\'s size limit, e.g. "10GB"');
  }
  return command;
}
