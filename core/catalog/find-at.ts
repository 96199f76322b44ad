import { restorableStatuses } from "../format/manifest.js";
import type { CallOptions, Store } from "../store/store.js";
import { appPrefixOf } from "./app-names.js";
import { backupPartOf, collectBackupObjects, type BackupObjects } from "./backup-objects.js";
import { blobNames } from "../format/backup-name.js";
import { factsOfBackup, listingOf, readHeadOf, type BackupListing } from "./listing.js";
import { byCodeUnits } from "../code-unit-order.js";

export interface FindBackupOptions {
  /** Which backups may be chosen; by default the restorable ones (Succeeded, PartiallySucceeded). */
  accept?: (backup: BackupListing) => boolean;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

/** Digits of `yyyyMMdd`: a day's backups are listed whole (24 hourly backups are 72 objects). */
const leafDigits = 8;
const stampDigits = 14;

export const isRestorable = (backup: BackupListing) => restorableStatuses.has(backup.status);

/**
 * The newest backup of the app started at or before `at` (the newest of all
 * without `at`) that `accept` takes, or undefined. Names sort by their UTC stamp,
 * so the newest stamp at or before `at` is found by asking, digit by digit down
 * the stamp, whether any object starts with a prefix (one object per request,
 * or one listing of a folder's names), highest digit first and never above
 * `at`'s; only a day is listed whole, with metadata, and a day holding nothing
 * acceptable sends the search back up to the next lower digit. A backup carrying its facts is judged without reading
 * its manifest; one made before manifests carried them is read by its head,
 * newest first, until one is accepted. Backups given a name of their own
 * (`backup --name`) carry no stamp and are never chosen here.
 */
export async function findBackupAt(store: Store, appName: string, at: Date | undefined, options: FindBackupOptions = {}): Promise<BackupListing | undefined> {
  const accept = options.accept ?? isRestorable;
  const prefix = appPrefixOf(appName);
  const listOptions = { abortSignal: options.signal };

  // A folder's names are read once, for every question of the search: the folder is read whole each time.
  let appNames: Promise<string[]> | undefined;
  const namesUnder = store.listNames
    ? async (under: string) => (await (appNames ??= store.listNames!(prefix, listOptions))).filter((name) => name.startsWith(under))
    : undefined;
  const holdsAny = prefixQuestion(store, prefix, listOptions, namesUnder);

  const newestInDay = async (day: string, bound: string | undefined): Promise<BackupListing | undefined> => {
    const candidates = (await backupsWithManifest(store, prefix + day, listOptions, namesUnder))
      .map((backup) => ({ ...backup, stamp: stampedPartOf(prefix, backup.name) }))
      .filter((c) => c.stamp !== undefined && (bound === undefined || c.stamp.digits <= bound))
      .sort((a, b) => byCodeUnits(b.stamp!.digits, a.stamp!.digits) || b.stamp!.sequence - a.stamp!.sequence);
    for (const { name, read } of candidates) {
      const objects = await read();
      const xml = objects.xml;
      // Deleted since it was listed.
      if (!xml) continue;
      const facts = factsOfBackup(name, xml.metadata);
      const outcome = facts ? { facts } : await readHeadOf(store, name, xml.size);
      const listing = listingOf(store, name, objects, outcome, options.onWarning);
      if (!listing || listing.appName !== appName || (at !== undefined && listing.startedAt > at)) continue;
      if (accept(listing)) return listing;
    }
    return undefined;
  };

  const newestUnder = async (digits: string, bound: string | undefined): Promise<BackupListing | undefined> => {
    if (digits.length === leafDigits) return newestInDay(digits, bound);
    const [lowest, highest] = calendarDigits(digits);
    const top = bound !== undefined ? Math.min(Number(bound[digits.length]), highest) : highest;
    for (let digit = top; digit >= lowest; digit--) {
      options.signal?.throwIfAborted();
      const next = `${digits}${digit}`;
      if (!(await holdsAny(next))) continue;
      const found = await newestUnder(next, bound !== undefined && digit === top ? bound : undefined);
      if (found) return found;
    }
    return undefined;
  };

  if (at === undefined || at.getUTCFullYear() > 9999) return newestUnder("", undefined);
  if (at.getUTCFullYear() < 0) return undefined;
  // Most searches end on the day of `at` (the backups of a schedule are close
  // together): that day is listed first, in one request, and only when it holds
  // nothing acceptable does the search go down the stamps of the days before.
  const bound = stampOf(at);
  const sameDay = await newestInDay(bound.slice(0, leafDigits), bound);
  if (sameDay) return sameDay;
  const lastSecondBefore = new Date(at);
  lastSecondBefore.setUTCHours(0, 0, 0, 0);
  lastSecondBefore.setTime(lastSecondBefore.getTime() - 1000);
  if (lastSecondBefore.getUTCFullYear() < 0) return undefined;
  return newestUnder("", stampOf(lastSecondBefore));
}

/**
 * Whether any object's name starts with the app's prefix and then `digits`:
 * a request of one object each time, or, for a container that lists its
 * names whole (a folder), a look at the app's names.
 */
function prefixQuestion(
  store: Store,
  appPrefix: string,
  options: CallOptions,
  namesUnder: ((prefix: string) => Promise<string[]>) | undefined,
): (digits: string) => Promise<boolean> {
  if (namesUnder) return async (digits) => (await namesUnder(appPrefix + digits)).length > 0;
  return async (digits) => {
    for await (const object of store.list(appPrefix + digits, { ...options, pageSize: 1 })) {
      return object !== undefined;
    }
    return false;
  };
}

/**
 * The backups under a prefix that have a manifest, each with what reads its
 * objects: from one listing with their metadata (a page of blob storage holds
 * them at no extra cost), or for a folder, where each object is a file to look
 * at, from the names alone, a backup's files looked at only when it is judged.
 */
async function backupsWithManifest(
  store: Store,
  prefix: string,
  options: CallOptions,
  namesUnder: ((prefix: string) => Promise<string[]>) | undefined,
): Promise<Array<{ name: string; read: () => Promise<BackupObjects> }>> {
  if (namesUnder) {
    const parts = new Map<string, Array<keyof BackupObjects>>();
    for (const objectName of await namesUnder(prefix)) {
      const found = backupPartOf(objectName);
      if (found) parts.set(found.name, [...(parts.get(found.name) ?? []), found.part]);
    }
    return [...parts].filter(([, kept]) => kept.includes("xml")).map(([name, kept]) => ({ name, read: () => statParts(store, name, kept, options) }));
  }
  const groups = await collectBackupObjects(store.list(prefix, { ...options, includeMetadata: true }));
  return [...groups].filter(([, objects]) => objects.xml !== undefined).map(([name, objects]) => ({ name, read: async () => objects }));
}

async function statParts(store: Store, name: string, parts: Array<keyof BackupObjects>, options: CallOptions): Promise<BackupObjects> {
  const names = blobNames(name);
  const objects: BackupObjects = {};
  for (const part of parts) {
    const object = await store.stat(part === "xml" ? names.manifest : names[part], options);
    if (object) objects[part] = object;
  }
  return objects;
}

/** How far ahead of this machine's clock a backup's stamp may be and still count as made by now. */
const clockSkewMs = 60 * 60 * 1000;

/**
 * The newest backup `accept` takes (`latest`). Looked for first at or before
 * this machine's clock (with an hour's grace for clocks that disagree), where
 * it is found with a request or two; a backup stamped further ahead (made with
 * `--now` in the future, or on a machine whose clock runs ahead) is chosen only
 * when there is no other, as finding it costs a probe of every later stamp.
 */
export async function findLatest(store: Store, appName: string, options: FindBackupOptions = {}): Promise<BackupListing | undefined> {
  return (await findBackupAt(store, appName, new Date(Date.now() + clockSkewMs), options)) ?? findBackupAt(store, appName, undefined, options);
}

/**
 * The digits a stamp can have next after `digits` (its year, month and day so
 * far): a month is 01-12 and a day 01-31, so a search never asks about a
 * prefix no backup name can have.
 */
function calendarDigits(digits: string): [lowest: number, highest: number] {
  switch (digits.length) {
    case 4:
      return [0, 1];
    case 5:
      return digits[4] === "1" ? [0, 2] : [1, 9];
    case 6:
      return [0, 3];
    case 7:
      return digits[6] === "3" ? [0, 1] : digits[6] === "0" ? [1, 9] : [0, 9];
    default:
      return [0, 9];
  }
}

/** `yyyyMMddHHmmss` of a time in UTC, as backup names carry it. */
function stampOf(at: Date): string {
  const year = at.getUTCFullYear();
  if (year < 0 || year > 9999) return year < 0 ? "0".repeat(stampDigits) : "9".repeat(stampDigits);
  return at.toISOString().replace(/[-:T]/g, "").slice(0, stampDigits);
}

/** The stamp and same-second sequence of one of the app's stamped names (`-2` is newer than no suffix). */
function stampedPartOf(prefix: string, name: string): { digits: string; sequence: number } | undefined {
  const match = /^(\d{14})(?:-([2-9]|[1-9]\d{1,2}))?$/.exec(name.slice(prefix.length));
  if (!name.startsWith(prefix) || !match) return undefined;
  return { digits: match[1]!, sequence: match[2] ? Number(match[2]) : 1 };
}
