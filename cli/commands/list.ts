import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { ListFlags } from "../actions/list.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "list the backups of the app described by ./app-backup.yml", command: "app-backup list" },
  { does: "list every app's backups in the container as one JSON array", command: "app-backup list --config /srv/shop/app-backup.yml --all-apps --json" },
  { does: "list an app's backups without a configuration file", command: "app-backup list --app shop --storage file:/var/backups/shop" },
];

export function registerList(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("list")
    .description("List the app's backups, newest first (with --all-apps, every app's in the container, grouped by app).");
  addAppFlags(command, "storage")
    .option("--all-apps", "list the backups of every app sharing the container, grouped by app")
    .option("--json", "print a JSON array as the last stdout line")
    .action(async (opts: ListFlags) => (await loaded(import("../actions/list.js"))).list(io, setExit, opts));
  withHelp(command, examples, "file-or-flags");
}
