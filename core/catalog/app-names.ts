import { AppBackupError } from "../errors.js";
import { isValidBackupName } from "../format/backup-name.js";

/**
 * Every object of an app's backups starts with this: listing it is listing the
 * app, whatever else shares the container. App names have no `_`, so no other
 * app's names start with it.
 */
export const appPrefixOf = (appName: string) => `${appName}_`;

/** True when `name` is a valid backup name in the app's naming scheme, `{app}_…`. */
export function isBackupNameOfApp(appName: string, name: string): boolean {
  return name.startsWith(appPrefixOf(appName)) && name.length > appPrefixOf(appName).length && isValidBackupName(name);
}

/**
 * Refuses a name outside the app's naming scheme: it would not be listed with
 * the app, and no command of the app may touch it. `what` says where the name
 * came from, e.g. `--name`.
 */
export function assertBackupNameOfApp(appName: string, name: string, what: string, hint = namingHint(appName)): void {
  if (isBackupNameOfApp(appName, name)) return;
  throw new AppBackupError(
    "USAGE",
    `${what} ${JSON.stringify(name)} is not a name of ${appName}'s backups: they are named ${appPrefixOf(appName)}… (letters, digits and _ - . after the app's name and an underscore).`,
    hint,
  );
}

function namingHint(appName: string): string {
  return `Name it ${appName}_ followed by what you like, e.g. ${appName}_before-upgrade: the app's commands list and touch only names that start with ${appName}_.`;
}
