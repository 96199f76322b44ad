import type { Command } from "commander";
import { describeConfiguration, storeConfiguration, toolVersion } from "../../core/index.js";
import { CommandOutput, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { parseNow } from "../now.js";

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
    .action(async (opts: { config: string; now?: string; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      try {
        const now = parseNow(opts.now);
        const options = await out.load(opts.config);
        const result = await storeConfiguration(options, { now, storedBy: `app-backup ${toolVersion} configure` });
        out.result({
          app: options.app.name,
          url: result.url,
          created: result.created,
          changed: result.changed,
          configuration: result.document,
        });
        const what = result.created
          ? "stored"
          : result.changed.length > 0
            ? `updated (${result.changed.join(", ")} changed)`
            : "stored again (unchanged)";
        out.print([`Backup configuration of ${options.app.name} ${what}: ${result.url}`, ...describeConfiguration(result.document)].join("\n"));
        setExit(0);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
  withHelp(command, examples);
}
