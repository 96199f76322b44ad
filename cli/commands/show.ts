import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { ShowFlags } from "../actions/show.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "show the newest backup of the app described by ./app-backup.yml", command: "app-backup show latest" },
  { does: "show the backup that was current at a given time, as JSON", command: "app-backup show --at 2026-11-30T02:00Z --json" },
  { does: "show a backup downloaded by hand", command: "app-backup show --from ./shop_20261130020000.zip" },
];

export function registerShow(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("show")
    .argument("[backup]", "the backup's name, or `latest`; none with --at or --from")
    .description("Show a backup's manifest: status, times, sizes, filter, databases, skipped files and origin.");
  addAppFlags(command, "storage")
    .option("--at <time>", "show the newest restorable backup started at or before this ISO-8601 time (e.g. 2026-11-30T02:00Z)")
    .option("--from <path>", "show a .zip and .xml downloaded by hand (the .zip, the .xml or their common stem)")
    .option("--json", "print the manifest (without its entry list) as one JSON object on the last stdout line")
    .action(async (backup: string | undefined, flags: ShowFlags) => (await loaded(import("../actions/show.js"))).show(io, setExit, backup, flags));
  withHelp(command, examples, "file-or-flags");
}
