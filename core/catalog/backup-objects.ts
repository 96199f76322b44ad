import { isValidBackupName } from "../format/backup-name.js";
import type { StoredObject } from "../store/store.js";

/** The objects of one backup name: its zip, manifest and log, as far as they exist. */
export type BackupObjects = Partial<Record<"zip" | "xml" | "log", StoredObject>>;

/** The backup an object belongs to and which of its objects it is, when its name is one a backup may have. */
export function backupPartOf(objectName: string): { name: string; part: keyof BackupObjects } | undefined {
  const match = /^(.+)\.(zip|xml|log)$/.exec(objectName);
  if (!match || !isValidBackupName(match[1]!)) return undefined;
  return { name: match[1]!, part: match[2] as keyof BackupObjects };
}

/** Adds an object to its backup's group; anything not named like part of a backup is none of ours and is left out. */
export function addToGroups(groups: Map<string, BackupObjects>, object: StoredObject): { name: string; part: keyof BackupObjects } | undefined {
  const found = backupPartOf(object.name);
  if (!found) return undefined;
  const group = groups.get(found.name) ?? {};
  group[found.part] = object;
  groups.set(found.name, group);
  return found;
}

/** The objects grouped by backup name. */
export function groupBackupObjects(objects: Iterable<StoredObject>): Map<string, BackupObjects> {
  const groups = new Map<string, BackupObjects>();
  for (const object of objects) addToGroups(groups, object);
  return groups;
}

/** The same, taken as a listing yields them: only the groups are kept, never the whole listing. */
export async function collectBackupObjects(objects: AsyncIterable<StoredObject>): Promise<Map<string, BackupObjects>> {
  const groups = new Map<string, BackupObjects>();
  for await (const object of objects) addToGroups(groups, object);
  return groups;
}
