import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { RestoreFlags } from "../actions/restore.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "see what restoring the newest backup would write and delete, changing nothing", command: "app-backup restore latest --dry-run" },
  { does: "restore the backup current at a given time, without being asked", command: "app-backup restore --at 2026-11-30T02:00Z --yes" },
  { does: "restore a backup into another app, files only", command: "app-backup restore shop_20261130020000 --to /srv/shop-staging/app-backup.yml --ignore-databases" },
];

export function registerRestore(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("restore")
    .argument("[backup]", "the backup's name (see `app-backup list`), or `latest`; none with --at, optional with --from")
    .description("Restore a backup's files, databases and (on request) configuration into the app, or into another app with --to.");
  addAppFlags(command, "restore", "the app's app-backup.yml, where the backups are (default: app-backup.yml)")
    .option("--at <time>", "restore the newest restorable backup started at or before this ISO-8601 time (e.g. 2026-11-30T02:00Z)")
    .option("--to <file>", "restore into the app described by this app-backup.yml instead")
    .option("--from <path>", "use a .zip and .xml downloaded by hand (the .zip, the .xml or their common stem)")
    .option("--ignore-databases", "restore the files only")
    .option("--restore-settings", "write the backup's app settings into the target's configuration file")
    .option("--adjust-connection-strings", "write the backup's connection strings into the target's configuration file")
    .option("--dry-run", "list what would be written, deleted and kept; change nothing")
    .option("--yes", "restore without asking first (on a terminal, restore shows what it will write and delete and asks)")
    .option("--json", "print one JSON result as the last stdout line, and JSON-lines progress on stderr")
    .action(async (backup: string | undefined, flags: RestoreFlags) => (await loaded(import("../actions/restore.js"))).restore(io, setExit, backup, flags));
  withHelp(command, examples, "file-or-flags");
}
