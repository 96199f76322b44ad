import type { Command } from "commander";
import { listBackups, listingColumns, listingJson, listingRow, listingsByApp, openStore, type BackupListing } from "../../core/index.js";
import { addAppFlags, loadApp, type AppFlags } from "../app-flags.js";
import { CommandOutput, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { table } from "../table.js";

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
    .action(async (opts: AppFlags & { json?: boolean; allApps?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      try {
        const options = await loadApp(out, opts, "list", io.env);
        const store = await openStore(options.backup.storage);
        const backups = await listBackups(store, { appName: opts.allApps ? undefined : options.app.name, onWarning: (m) => out.note(`warning: ${m}`) });
        if (opts.json) {
          // The table of thousands of rows is not built only to be left unprinted.
          out.result(backups.map(listingJson));
        } else if (backups.length === 0) {
          out.print(opts.allApps ? `No backups in ${store.location}.` : `No backups of ${options.app.name} in ${store.location}.`);
        } else if (opts.allApps) {
          out.print(listingsByApp(backups).map((group) => `${group.appName} (${group.backups.length} backup(s)):\n${listingTable(group.backups)}`).join("\n\n"));
        } else {
          out.print(listingTable(backups));
        }
        setExit(0);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
  withHelp(command, examples, "file-or-flags");
}

function listingTable(backups: BackupListing[]): string {
  return table(
    listingColumns.map((column) => column.toUpperCase()),
    backups.map(listingRow),
  );
}
