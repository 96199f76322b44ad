import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { backupObjectsOf, deleteAppBackup, lockTtlFromEnv, openStore } from "../../core/index.js";
import { CommandOutput, usageError, type CliIo } from "../context.js";
import { ExitCode } from "../exit-codes.js";

export function registerDelete(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("delete")
    .argument("<backup>", "the backup's name, as `app-backup list` shows it")
    .description("Delete one backup of the app: its manifest first (so it is never listed as restorable half-deleted), then its zip and its log.")
    .option("-c, --config <file>", "the app's app-backup.yml", "app-backup.yml")
    .option("--yes", "delete without asking (required when not on a terminal)")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (backup: string, flags: { config: string; yes?: boolean; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(flags.json));
      try {
        const lockTtlMs = lockTtlFromEnv(io.env);
        const options = await out.load(flags.config);
        const appName = options.app.name;
        const store = await openStore(options.backup.storage);
        const objects = await backupObjectsOf(store, appName, backup);
        if (!flags.yes && !(await confirmed(io, out, backup, objects.map((o) => store.urlOf(o))))) {
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
}

/** Asks on the terminal; off a terminal nobody can answer, so --yes is required. */
async function confirmed(io: CliIo, out: CommandOutput, backup: string, urls: string[]): Promise<boolean> {
  if (!io.stdin?.isTTY) {
    throw usageError(`Deleting ${backup} needs confirmation, and there is no terminal to ask on.`, "Pass --yes to delete it without being asked.");
  }
  out.note([`This deletes backup ${backup} for good:`, ...urls.map((u) => `  ${u}`)].join("\n"));
  const prompt = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    // Input that ends before a line is answered is a no.
    const ended = new Promise<string>((resolve) => prompt.once("close", () => resolve("")));
    const answer = await Promise.race([prompt.question("Delete it? [y/N] ").catch(() => ""), ended]);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    prompt.close();
  }
}
