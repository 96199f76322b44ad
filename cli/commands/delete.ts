import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { DeleteFlags } from "../actions/delete.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "delete one backup, after saying what goes and asking", command: "app-backup delete shop_20261130020000" },
  { does: "delete it without being asked (scripts, CI)", command: "app-backup delete shop_20261130020000 --yes --json" },
  { does: "delete a backup of an app described by flags", command: "app-backup delete shop_20261130020000 --app shop --storage file:/var/backups/shop --yes" },
];

export function registerDelete(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("delete")
    .argument("<backup>", "the backup's name, as `app-backup list` shows it")
    .description("Delete one backup of the app: its manifest first (so it is never listed as restorable half-deleted), then its zip and its log.");
  addAppFlags(command, "storage")
    .option("--yes", "delete without asking (required when not on a terminal)")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (backup: string, flags: DeleteFlags) => (await loaded(import("../actions/delete.js"))).deleteBackup(io, setExit, backup, flags));
  withHelp(command, examples, "file-or-flags");
}
