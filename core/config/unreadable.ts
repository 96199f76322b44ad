import { AppBackupError } from "../errors.js";

/** CONFIG_UNREADABLE for a file that could not be read: `what` names it ("configuration file", "settings file"). */
export function unreadableFile(what: string, file: string, error: unknown, hint: string): AppBackupError {
  const code = (error as NodeJS.ErrnoException).code;
  return new AppBackupError("CONFIG_UNREADABLE", `Cannot read the ${what} ${file}: ${code === "ENOENT" ? "it does not exist" : (error as Error).message}.`, hint);
}
