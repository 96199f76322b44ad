import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { claimedNameOf, claimNameOf } from "../backup/reserve-name.js";
import { appPrefixOf } from "../catalog/app-names.js";
import { backupPartOf, groupBackupObjects, type BackupObjects } from "../catalog/backup-objects.js";
import { isStampedBackupNameOf } from "../format/backup-name.js";
import { isAbandonedRecord, objectOfMetadataRecord } from "../store/local-metadata.js";
import { partialPrefix } from "../store/partial-file.js";
import type { Store, StoredObject } from "../store/store.js";
import { lockNameFor } from "./lock.js";
import { formatAge } from "./retention.js";
import { byCodeUnits } from "../code-unit-order.js";

/**
 * How old what a run left behind must be before prune deletes it. A backup
 * writes its zip, then its log, then its manifest, renewing its name's claim
 * for as long as it runs; no backup runs for a day, so a day-old object
 * without a manifest belongs to a backup that died.
 */
export const orphanSafeAgeMs = 24 * 3_600_000;

/**
 * Why an object is an orphan: a zip without its manifest (the backup was
 * interrupted), a log without a zip or manifest (it died before its zip was
 * committed), a name claim its backup never removed, a local container's
 * temp file its writer never published, or a local container's metadata record
 * whose object is gone (or is another file than the one it was written for).
 */
export type OrphanRule = "zip-without-manifest" | "log-without-zip" | "stale-claim" | "partial-upload" | "record-without-object";

/** What an interrupted or failed run of the app left behind. */
export interface Orphan {
  /** The backup name the objects belong to. */
  name: string;
  rule: OrphanRule;
  /** What prune deletes: only `{name}.zip`, `{name}.log`, the name's claim, or a local temp file or record of the name's objects. */
  objects: string[];
  lastModified: Date;
  reason: string;
}

/** The app's objects as prune looks at them: backups grouped by name, name claims, a local container's leftover files. */
export interface AppObjects {
  groups: Map<string, BackupObjects>;
  claims: StoredObject[];
  /** Temp files and abandoned metadata records of a local container (see listLocalLeftovers). */
  localFiles?: StoredObject[];
}

/** Objects in one array (as a test builds them) sorted into AppObjects. */
export function appObjectsOf(objects: StoredObject[]): AppObjects {
  return {
    groups: groupBackupObjects(objects),
    claims: objects.filter((o) => claimedNameOf(o.name) !== undefined),
    localFiles: objects.filter((o) => leftoverOf(o.name) !== undefined),
  };
}

/**
 * The name claims of the app's backups: they are named `claim.{name}.txt`,
 * outside the app's prefix, so that listing the app never takes one for part of a backup.
 */
export async function listClaims(store: Store, appName: string, signal?: AbortSignal): Promise<StoredObject[]> {
  const claims: StoredObject[] = [];
  for await (const object of store.list(claimNameOf(appPrefixOf(appName)).replace(/\.txt$/, ""), { abortSignal: signal })) {
    if (claimedNameOf(object.name) !== undefined) claims.push(object);
  }
  return claims;
}

/**
 * What a local container's writers left for the app's objects: temp files
 * (`.partial-{random}-{object}`) and metadata records whose object is gone. The
 * store never lists them; they are found in its folder. Blob storage keeps no
 * such thing (uncommitted blocks expire by themselves, metadata goes with its blob).
 */
export async function listLocalLeftovers(store: Store, appName: string): Promise<StoredObject[]> {
  const root = containerFolderOf(store);
  if (root === undefined) return [];
  const leftovers: StoredObject[] = [];
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    const leftover = leftoverOf(entry);
    if (!leftover || !isStampedBackupNameOf(appName, leftover.name)) continue;
    if (leftover.rule === "record-without-object" && !(await isAbandonedRecord(root, leftover.object))) continue;
    const info = await stat(path.join(root, entry)).catch(() => undefined);
    if (info?.isFile()) leftovers.push({ name: entry, size: info.size, lastModified: info.mtime });
  }
  return leftovers;
}

/** The backup a local leftover file belongs to, the object it was for, and which kind of leftover it is. */
function leftoverOf(entry: string): { name: string; object: string; rule: "partial-upload" | "record-without-object" } | undefined {
  const partialOf = entry.startsWith(partialPrefix) ? /^[0-9a-f]+-(.+)$/.exec(entry.slice(partialPrefix.length))?.[1] : undefined;
  const target = partialOf ?? entry;
  const object = objectOfMetadataRecord(target) ?? target;
  if (partialOf === undefined && object === target) return undefined;
  const name = backupPartOf(object)?.name ?? claimedNameOf(object);
  if (name === undefined) return undefined;
  return { name, object, rule: partialOf !== undefined ? "partial-upload" : "record-without-object" };
}

/** The folder of a local container, from where it keeps an object of ours. */
function containerFolderOf(store: Store): string | undefined {
  return store.localPath ? path.dirname(store.localPath(lockNameFor("probe"))) : undefined;
}

/**
 * The app's orphans older than `orphanSafeAgeMs` at `judgedAt`. Only the app's
 * own stamped names count: other apps' names, names given with `--name` and
 * anything not named like a backup are never orphans of the app.
 */
export function findOrphans(found: AppObjects, appName: string, judgedAt: Date): Orphan[] {
  const claims = new Map<string, StoredObject>();
  for (const object of found.claims) claims.set(claimedNameOf(object.name)!, object);
  const orphans: Orphan[] = [];
  const add = (name: string, rule: OrphanRule, parts: StoredObject[], why: string) => {
    const lastModified = new Date(Math.max(...parts.map((o) => o.lastModified.getTime())));
    const age = judgedAt.getTime() - lastModified.getTime();
    if (age <= orphanSafeAgeMs) return;
    orphans.push({ name, rule, objects: parts.map((o) => o.name).sort(), lastModified, reason: `${why}, last written ${formatAge(age)} ago: ${consequence[rule]}` });
  };
  for (const name of new Set([...found.groups.keys(), ...claims.keys()])) {
    if (!isStampedBackupNameOf(appName, name)) continue;
    const group = found.groups.get(name) ?? {};
    const claim = claims.get(name);
    if (group.xml) {
      if (claim) add(name, "stale-claim", [claim], "A name claim its finished backup did not remove");
      continue;
    }
    const parts = [group.zip, group.log, claim].filter((o): o is StoredObject => o !== undefined);
    if (group.zip) add(name, "zip-without-manifest", parts, "No manifest");
    else if (group.log) add(name, "log-without-zip", parts, "A log without a zip or manifest");
    else if (claim) add(name, "stale-claim", parts, "A name claim without a backup");
  }
  for (const file of found.localFiles ?? []) {
    const leftover = leftoverOf(file.name);
    if (!leftover || !isStampedBackupNameOf(appName, leftover.name)) continue;
    const why = leftover.rule === "partial-upload" ? `A temp file of ${leftover.object} that was never published` : `The metadata record of ${leftover.object}, which is gone`;
    add(leftover.name, leftover.rule, [file], why);
  }
  return orphans.sort((a, b) => byCodeUnits(a.name, b.name) || byCodeUnits(a.rule, b.rule));
}

const consequence: Record<OrphanRule, string> = {
  "zip-without-manifest": "left by a backup that did not finish; it cannot be restored.",
  "log-without-zip": "left by a backup that stopped before its zip was written; it cannot be restored.",
  "stale-claim": "its backup is no longer running, and the claim only holds the name.",
  "partial-upload": "its writer stopped before publishing it; it is not part of any backup.",
  "record-without-object": "it describes nothing any more.",
};

/** Deletes what an orphan holds: objects through the store, a local leftover file in the container's folder. */
export async function deleteOrphan(store: Store, orphan: Orphan, signal?: AbortSignal): Promise<void> {
  if (orphan.rule === "partial-upload" || orphan.rule === "record-without-object") {
    const root = containerFolderOf(store);
    for (const file of orphan.objects) if (root !== undefined && leftoverOf(file) !== undefined) await rm(path.join(root, file), { force: true });
    return;
  }
  for (const object of orphan.objects) await store.delete(object, { abortSignal: signal });
}

/** An orphan as `prune --json` and `run-scheduled --json` print it. */
export function orphanJson(orphan: Orphan) {
  return { name: orphan.name, rule: orphan.rule, objects: orphan.objects, lastModified: orphan.lastModified.toISOString(), reason: orphan.reason };
}
