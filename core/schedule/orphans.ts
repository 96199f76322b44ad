import { isStampedBackupNameOf } from "../format/backup-name.js";
import { claimedNameOf } from "../backup/reserve-name.js";
import { groupBackupObjects } from "../catalog/catalog.js";
import type { StoredObject } from "../store/store.js";
import { formatAge } from "./retention.js";

/**
 * How old a zip or log without a manifest must be before prune deletes it. A
 * backup writes its zip, then its log, then its manifest, and holds the app's
 * lock all along, renewing it for as long as it runs; no backup runs for a day,
 * so a day-old object without a manifest belongs to a backup that died.
 */
export const orphanSafeAgeMs = 24 * 3_600_000;

/** What an interrupted backup of the app left behind: its zip, log and/or name claim, with no manifest. */
export interface Orphan {
  name: string;
  /** The objects prune deletes: only `{name}.zip`, `{name}.log` and the name's claim. */
  objects: string[];
  lastModified: Date;
  reason: string;
}

/**
 * The app's orphans: objects named after one of the app's own stamped backup
 * names that have no manifest and were last written more than `orphanSafeAgeMs`
 * before `judgedAt`. Names of other apps, on-demand names and anything not
 * named like a backup are never orphans of the app.
 */
export function findOrphans(objects: StoredObject[], appName: string, judgedAt: Date): Orphan[] {
  const claims = new Map<string, StoredObject>();
  for (const object of objects) {
    const claimed = claimedNameOf(object.name);
    if (claimed !== undefined) claims.set(claimed, object);
  }
  const groups = groupBackupObjects(objects);
  const orphans: Orphan[] = [];
  for (const name of new Set([...groups.keys(), ...claims.keys()])) {
    const group = groups.get(name) ?? {};
    if (group.xml || !isStampedBackupNameOf(appName, name)) continue;
    const parts = [group.zip, group.log, claims.get(name)].filter((o): o is StoredObject => o !== undefined);
    if (parts.length === 0) continue;
    const lastModified = new Date(Math.max(...parts.map((o) => o.lastModified.getTime())));
    const age = judgedAt.getTime() - lastModified.getTime();
    if (age <= orphanSafeAgeMs) continue;
    orphans.push({
      name,
      objects: parts.map((o) => o.name).sort(),
      lastModified,
      reason: `No manifest, last written ${formatAge(age)} ago: left by a backup that did not finish; it cannot be restored.`,
    });
  }
  return orphans.sort((a, b) => a.name.localeCompare(b.name));
}

/** An orphan as `prune --json` and `run-scheduled --json` print it. */
export function orphanJson(orphan: Orphan) {
  return { name: orphan.name, objects: orphan.objects, lastModified: orphan.lastModified.toISOString(), reason: orphan.reason };
}
