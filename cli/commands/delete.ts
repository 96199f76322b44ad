import type { Command } from "commander";
import { backupObjectsOf, deleteAppBackup, lockTtlFromEnv, openStore } from "../../core/index.js";
import { addAppFlags, loadApp, type AppFlags } from "../app-flags.js";
import { canAsk, confirm } from "../confirm.js";
import { CommandOutput, usageError, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { ExitCode } from "../exit-codes.js";

const examples: HelpExample[] = [
  { does: "delete one backup, after saying what goes and asking", command: "app-backup delete shop_20261130020000" },
  { does: "delete it without being asked (scripts, CI)", command: "app-backup delete shop_20261130020000 --yes --json" },
  { does: "delete a backup of an app described by flags", command: "app-backup delete shop_20261130020000 --app shop --storage file:/var/backups/shop --yes" },
];

export function registerDelete(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("delete")
    .argument("<backup>", "the backup's name, as `app-backup list` shows it")
    .description("Delete one backup of the app: its manifest first (so it is never listed as restorable half-deleted), then its zip and its log.");
  addAppFlags(command, "storage")
    .option("--yes", "delete without asking (required when not on a terminal)")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (backup: string, flags: AppFlags & { yes?: boolean; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(flags.json));
      try {
        const lockTtlMs = lockTtlFromEnv(io.env);
        const options = await loadApp(out, flags, "delete", io.env);
        const appName = options.app.name;
        const store = await openStore(options.backup.storage);
        const objects = await backupObjectsOf(store, appName, backup);
        if (!flags.yes && !canAsk(io)) {
          throw usageError(`Deleting ${backup} needs confirmation, and there is no terminal to ask on.`, "Pass --yes to delete it without being asked.");
        }
        const asked = { what: [`This deletes backup ${backup} for good:`, ...objects.map((o) => `  ${store.urlOf(o)}`)], question: "Delete it?" };
        if (!flags.yes && !(await confirm(io, out, asked))) {
          out.print(`Nothing was deleted.`);
          out.result({ backup, app: appName, deleted: false, removed: [] });
          setExit(ExitCode.failed);
          return;
        }
        const removed = await deleteAppBackup(store, appName, backup, { lockTtlMs, onWarning: (m) => out.note(`warning: ${m}`) });
        out.result({ backup, app: appName, deleted: true, removed });
        out.print([`Deleted backup ${backup}:`, ...removed.map((o) => `  ${store.urlOf(o)}`)].join("\n"));
        setExit(ExitCode.ok);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
  withHelp(command, examples, "file-or-flags");
}
