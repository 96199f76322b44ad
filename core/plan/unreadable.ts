import { AppBackupError } from "../errors.js";

/** The home exists but this user cannot list it: say so, naming it, rather than what was first read inside it. */
export function homeUnreadable(home: string, error: unknown): AppBackupError {
  return new AppBackupError(
    "HOME_MISSING",
    `The app's home ${home} cannot be read by this user: ${reasonOf(error)}.`,
    'Run app-backup as a user who can read the home and everything in it (the app\'s own user, or one in its group), or give this user read access (e.g. chmod -R u+rX, g+rX); "home" in the configuration names it.',
  );
}

/** Why a path cannot be read, in the words of the backup's log. */
export function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === "EACCES" || e.code === "EPERM") return `permission denied (${e.code})`;
  if (e.code === "ENOENT") return "vanished while the backup ran (ENOENT)";
  return e.code ? `${e.code}: ${e.message}` : String(error);
}
