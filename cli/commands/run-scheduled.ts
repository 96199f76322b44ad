import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { RunScheduledFlags } from "../actions/run-scheduled.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "back up if the stored schedule says one is due, then apply retention (run it hourly)", command: "app-backup run-scheduled" },
  { does: "say whether a backup is due and what retention would delete, changing nothing", command: "app-backup run-scheduled --dry-run --json" },
  { does: "evaluate the schedule at a given time", command: "app-backup run-scheduled --config /srv/shop/app-backup.yml --now 2026-12-01T02:00Z --dry-run" },
];

export function registerRunScheduled(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("run-scheduled")
    .description(
      "Run the app's scheduled backup if one is due under its stored configuration, then apply retention. Run it often (say hourly); it backs up only when due, and only one runner at a time.",
    )
    .option("-c, --config <file>", "the runner's app-backup.yml: the app's name, storage and secrets", "app-backup.yml")
    .option("--now <time>", "evaluate everything at this ISO-8601 time instead of now; the backup is named after it")
    .option("--dry-run", "say whether a backup is due and what retention would delete, changing nothing")
    .option("--json", "print one JSON result as the last stdout line, and JSON-lines progress on stderr")
    .action(async (opts: RunScheduledFlags) => (await loaded(import("../actions/run-scheduled.js"))).runScheduledCommand(io, setExit, opts));
  withHelp(command, examples);
}
