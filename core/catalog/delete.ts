import { blobNames } from "../format/backup-name.js";
import type { Store } from "../store/store.js";
import { assertBackupNameOfApp } from "./app-names.js";
import { backupNotFound } from "./manifest-checks.js";

/**
 * Deletes a backup's zip, manifest and log together; the manifest first, so a
 * half-deleted backup is never listed as restorable. A store that keeps a record
 * of an object's metadata beside it removes it with the object.
 */
export async function deleteBackup(store: Store, name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  const names = blobNames(name);
  const call = { abortSignal: options.signal };
  await store.delete(names.manifest, call);
  await store.delete(names.zip, call);
  await store.delete(names.log, call);
}

/** The objects of one backup that exist, in the order `delete` removes them. */
export async function backupObjectsOf(store: Store, appName: string, name: string): Promise<string[]> {
  assertBackupNameOfApp(appName, name, "Backup", `Name one of ${appName}'s backups as \`app-backup list\` shows it.`);
  const names = blobNames(name);
  const present: string[] = [];
  for (const object of [names.manifest, names.zip, names.log]) if (await store.exists(object)) present.push(object);
  if (present.length === 0) throw backupNotFound(store, name);
  return present;
}
