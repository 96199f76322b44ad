import { backupObjectsOf, deleteAppBackup, lockTtlFromEnv, openStore } from "../../core/index.js";
import type { AppFlags } from "../app-flags.js";
import { canAsk, confirm } from "../confirm.js";
import { CommandOutput, usageError } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode } from "../exit-codes.js";
import { loadApp } from "../load-app.js";

export interface DeleteFlags extends AppFlags {
  yes?: boolean;
  json?: boolean;
}

export async function deleteBackup(io: CliIo, setExit: (code: number) => void, backup: string, flags: DeleteFlags): Promise<void> {
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
}
