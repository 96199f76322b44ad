import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { BackupFlags } from "../actions/backup.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "back up the app described by ./app-backup.yml, with one JSON result on stdout", command: "app-backup backup --json" },
  {
    does: "back up an app described by flags alone, with its PostgreSQL database",
    command: "app-backup backup --app shop --home /srv/shop --storage file:/var/backups/shop --database 'MainDb=PostgreSql:${env:SHOP_DB}'",
  },
  { does: "show what would go into a backup (files, bytes, filter lines, databases), writing nothing", command: "app-backup backup --config /srv/shop/app-backup.yml --dry-run" },
];

export function registerBackup(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program.command("backup").description("Back up the app's content, configuration and databases into its container.");
  addAppFlags(command, "backup")
    .option("--name <name>", "backup name instead of {app}_{yyyyMMddHHmmss}; it must start with {app}_")
    .option("--dry-run", "walk the home with its filter and say what would go in; write, claim and lock nothing")
    .option("--json", "print one JSON result as the last stdout line, and JSON-lines progress on stderr")
    .action(async (opts: BackupFlags) => (await loaded(import("../actions/backup.js"))).backup(io, setExit, opts));
  withHelp(command, examples, "file-or-flags");
}
