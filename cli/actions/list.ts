import { listBackups, listingColumns, listingJson, listingRow, listingsByApp, openStore, type BackupListing } from "../../core/index.js";
import type { AppFlags } from "../app-flags.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { loadApp } from "../load-app.js";
import { table } from "../table.js";

export interface ListFlags extends AppFlags {
  json?: boolean;
  allApps?: boolean;
}

export async function list(io: CliIo, setExit: (code: number) => void, opts: ListFlags): Promise<void> {
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
}

function listingTable(backups: BackupListing[]): string {
  return table(
    listingColumns.map((column) => column.toUpperCase()),
    backups.map(listingRow),
  );
}
