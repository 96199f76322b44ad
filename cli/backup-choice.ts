import { usageError } from "./context.js";

/** Exactly one of a backup name, --at and --from says which backup a command works on. */
export function assertOneBackup(command: string, backup: string | undefined, at: Date | undefined, from: string | undefined): void {
  const given = [backup !== undefined && `the backup ${backup}`, at !== undefined && "--at", from !== undefined && "--from"].filter(Boolean);
  if (given.length === 0) {
    throw usageError(`Name the backup to ${command}, or pass --from PATH, or give --at TIME.`, "Run `app-backup list --config FILE` to see the backups.");
  }
  // A name with --from checks that the files are that backup's, as before.
  if (at !== undefined && given.length > 1) {
    throw usageError(`--at cannot be combined with ${given.filter((g) => g !== "--at").join(" or ")}.`, `Either name the backup, or give --at TIME to ${command} the newest restorable backup started at or before it.`);
  }
}
