import type { Command } from "commander";
import { listBackups, listingColumns, listingJson, listingRow, openStore } from "../../core/index.js";
import { CommandOutput, type CliIo } from "../context.js";
import { table } from "../table.js";

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
              listingColumns.map((column) => column.toUpperCase()),
              backups.map(listingRow),
            ),
          );
        }
        setExit(0);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
}
