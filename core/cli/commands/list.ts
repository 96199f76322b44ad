import type { Command } from "commander";
import { listBackups, listingJson } from "../../catalog/catalog.js";
import { openStore } from "../../store/open.js";
import { CommandOutput, type CliIo } from "../context.js";
import { formatCount, formatSize, table } from "../format.js";

export function registerList(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("list")
    .description("List the backups in the app's container, newest first.")
    .option("-c, --config <file>", "the app's app-backup.yml", "app-backup.yml")
    .option("--all-apps", "include backups of other apps sharing the container")
    .option("--json", "print a JSON array as the last stdout line")
    .action(async (opts: { config: string; json?: boolean; allApps?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      try {
        const options = await out.load(opts.config);
        const store = await openStore(options.backup.storage);
        const backups = await listBackups(store, { appName: opts.allApps ? undefined : options.app.name, onWarning: (m) => out.note(`warning: ${m}`) });
        out.result(backups.map(listingJson));
        if (backups.length === 0) {
          out.print(`No backups of ${options.app.name} in ${store.location}.`);
        } else {
          out.print(
            table(
              ["NAME", "STATUS", "TRIGGER", "SIZE", "FILES", "STARTED (UTC)"],
              backups.map((b) => [
                b.name,
                b.status,
                b.trigger,
                formatSize(b.sizeBytes),
                formatCount(b.files),
                b.startedAt.toISOString().replace("T", " ").slice(0, 19),
              ]),
            ),
          );
        }
        setExit(0);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
}
