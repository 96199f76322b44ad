import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { ConfigureFlags } from "../actions/configure.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "store the schedule and retention of ./app-backup.yml in the app's container", command: "app-backup configure" },
  { does: "store another app's configuration, as JSON", command: "app-backup configure --config /srv/shop/app-backup.yml --json" },
  { does: "store it with a given first schedule time when none is declared", command: "app-backup configure --now 2026-12-01T02:00Z" },
];

export function registerConfigure(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("configure")
    .description("Store the app's backup configuration (schedule, retention, what to back up) in its container, where scheduled runners read it.")
    .option("-c, --config <file>", "the app's app-backup.yml", "app-backup.yml")
    .option("--now <time>", "the time used as the schedule's startTime when none is declared (ISO-8601)")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (opts: ConfigureFlags) => (await loaded(import("../actions/configure.js"))).configure(io, setExit, opts));
  withHelp(command, examples);
}
