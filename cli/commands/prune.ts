import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { PruneFlags } from "../actions/prune.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "say which backups retention would delete and why, deleting nothing", command: "app-backup prune --dry-run" },
  { does: "apply the stored retention to the app of a configuration file", command: "app-backup prune --config /srv/shop/app-backup.yml" },
  { does: "judge ages at a given time, as JSON", command: "app-backup prune --dry-run --now 2026-12-01T00:00Z --json" },
];

export function registerPrune(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("prune")
    .description(
      "Apply the stored schedule's retention: delete scheduled backups past retentionPeriodInDays (zip, manifest and log together), saying for every backup whether it is kept or deleted and why. On-demand backups are never deleted.",
    );
  addAppFlags(command, "storage", "the app's app-backup.yml (its name and storage say where to look; default: app-backup.yml)")
    .option("--dry-run", "say what would be deleted, deleting nothing")
    .option("--now <time>", "judge ages at this ISO-8601 time instead of now")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (opts: PruneFlags) => (await loaded(import("../actions/prune.js"))).prune(io, setExit, opts));
  withHelp(command, examples, "file-or-flags");
}
