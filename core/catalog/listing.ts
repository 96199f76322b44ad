import { blobNames } from "../format/backup-name.js";
import { catalogFactsFrom, catalogFactsOf, type CatalogFacts } from "../format/catalog-metadata.js";
import type { ManifestSummary } from "../format/manifest.js";
import type { Store } from "../store/store.js";
import { appPrefixOf } from "./app-names.js";
import { addToGroups, type BackupObjects } from "./backup-objects.js";
import { manifestMismatch, manifestMismatchHint } from "./manifest-checks.js";
import { FactsBackfill } from "./facts-backfill.js";
import { boundedPool } from "./pool.js";
import { byCodeUnits } from "../code-unit-order.js";

/**
 * One backup in a container, as `list` shows it: the facts its manifest
 * carries (or its manifest's head gives), and where its objects are.
 */
export interface BackupListing extends CatalogFacts {
  name: string;
  zip?: string;
  manifest?: string;
  log?: string;
}

export interface ListBackupsOptions {
  /** Only the backups of this app: only its prefix is listed. Without it, the whole container, grouped by app. */
  appName?: string;
  /** Told about every object that was skipped because it is not a backup of ours or lies about itself. */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /**
   * Record the facts of manifests read because they carried none (see
   * FactsBackfill); off for runs that promise to change nothing (`--dry-run`).
   */
  recordFacts?: boolean;
}

/** A listing as `list --json` prints it (and the Action's `backups` output). */
export function listingJson(b: BackupListing) {
  return {
    name: b.name,
    app: b.appName,
    status: b.status,
    trigger: b.trigger,
    startedAt: b.startedAt.toISOString(),
    finishedAt: b.finishedAt.toISOString(),
    sizeBytes: b.sizeBytes,
    contentBytes: b.contentBytes,
    files: b.files,
    databases: b.databases,
    toolVersion: b.toolVersion,
    zip: b.zip ?? null,
    manifest: b.manifest ?? null,
    ...(b.error ? { error: b.error } : {}),
  };
}

/**
 * Manifests read at once for backups listed without their facts: enough to hide
 * each read's latency on blob storage, few enough not to be throttled.
 */
const manifestReadConcurrency = 16;

/** What is known of a manifest once listed: its facts, or the summary its head gave, or why it is unreadable. */
export type ManifestOutcome = { facts: CatalogFacts } | { summary: ManifestSummary } | { unreadable: string } | { foreign: string } | undefined;

/**
 * The backups in a container, newest first (grouped by app, when not of one
 * app). One pass over the listing, with each object's metadata: a manifest that
 * carries its facts is listed from them and never read; one made before
 * manifests carried facts is read by its head, a bounded number at a time,
 * while the listing goes on. A zip without a manifest was interrupted and is
 * listed as Failed.
 */
export async function listBackups(store: Store, options: ListBackupsOptions = {}): Promise<BackupListing[]> {
  const prefix = options.appName === undefined ? undefined : appPrefixOf(options.appName);
  const groups = new Map<string, BackupObjects>();
  const manifests = new Map<string, Promise<ManifestOutcome>>();
  const read = boundedPool(manifestReadConcurrency);
  const backfill = options.recordFacts === false ? undefined : new FactsBackfill(store);
  for await (const { metadata, ...object } of store.list(prefix, { includeMetadata: true, abortSignal: options.signal })) {
    // Only the facts are kept of an object's metadata: ten thousand backups' worth adds up.
    const found = addToGroups(groups, object);
    if (found?.part !== "xml") continue;
    const facts = factsOfBackup(found.name, metadata);
    manifests.set(found.name, facts ? Promise.resolve({ facts }) : read(() => readHeadOf(store, found.name, object.size, backfill, options.signal)));
  }
  return listingsOf(store, groups, { ...options, manifests });
}

/**
 * The listings of backups already grouped (prune groups the app's objects once
 * for retention and orphans alike). Manifests without facts are read here unless
 * `manifests` already holds their outcome.
 */
export async function listingsOf(
  store: Store,
  groups: Map<string, BackupObjects>,
  options: ListBackupsOptions & { manifests?: Map<string, Promise<ManifestOutcome>> } = {},
): Promise<BackupListing[]> {
  const read = boundedPool(manifestReadConcurrency);
  const backfill = options.recordFacts === false ? undefined : new FactsBackfill(store);
  const pending = [...groups].map(async ([name, objects]) => {
    const xml = objects.xml;
    let outcome: ManifestOutcome;
    if (xml) {
      const known = options.manifests?.get(name);
      const facts = known ? undefined : factsOfBackup(name, xml.metadata);
      outcome = await (known ?? (facts ? { facts } : read(() => readHeadOf(store, name, xml.size, backfill, options.signal))));
    }
    return listingOf(store, name, objects, outcome, options.onWarning);
  });
  const listings = (await Promise.all(pending)).filter((l): l is BackupListing => l !== undefined && (options.appName === undefined || l.appName === options.appName));
  return listings.sort(
    (a, b) =>
      (options.appName === undefined ? byCodeUnits(a.appName, b.appName) : 0) ||
      b.startedAt.getTime() - a.startedAt.getTime() ||
      byCodeUnits(b.name, a.name),
  );
}

/**
 * The facts a backup's manifest carries, when they are of an app whose names
 * this backup's name has: a manifest copied under another app's name, metadata
 * and all, is read instead, and then refused for naming another backup.
 */
export function factsOfBackup(name: string, metadata: Readonly<Record<string, string>> | undefined): CatalogFacts | undefined {
  const facts = catalogFactsFrom(metadata);
  return facts && name.startsWith(appPrefixOf(facts.appName)) ? facts : undefined;
}

/**
 * Never rejects: the outcome of a read that failed is part of the listing. A
 * manifest found to be its backup's has its facts recorded by `backfill`.
 */
export async function readHeadOf(store: Store, name: string, size: number, backfill?: FactsBackfill, signal?: AbortSignal): Promise<ManifestOutcome> {
  const manifestName = blobNames(name).manifest;
  // Loaded when a manifest has to be read: a listing of backups that carry their facts reads none.
  const { ForeignObjectError, readManifestHead } = await import("../format/manifest-head.js");
  try {
    const summary = await readManifestHead(store, manifestName, size);
    if (backfill && !manifestMismatch(summary, name, manifestName)) await backfill.record(name, summary, signal);
    return { summary };
  } catch (error) {
    if (error instanceof ForeignObjectError) return { foreign: error.message };
    return { unreadable: (error as Error).message };
  }
}

/** The listing of one backup from what its objects and its manifest say. */
export function listingOf(
  store: Store,
  name: string,
  objects: BackupObjects,
  manifest: ManifestOutcome,
  onWarning?: (message: string) => void,
): BackupListing | undefined {
  const names = blobNames(name);
  const urls = {
    zip: objects.zip ? store.urlOf(names.zip) : undefined,
    manifest: objects.xml ? store.urlOf(names.manifest) : undefined,
    log: objects.log ? store.urlOf(names.log) : undefined,
  };
  /** A backup that cannot be restored and has no readable manifest to describe it. */
  const unrestorable = (stamp: Date | undefined, sizeBytes: number, error: string): BackupListing => ({
    name,
    appName: name.replace(/_\d{14}(?:-\d+)?$/, ""),
    status: "Failed",
    trigger: "OnDemand",
    startedAt: stamp ?? new Date(0),
    finishedAt: stamp ?? new Date(0),
    sizeBytes,
    contentBytes: 0,
    files: 0,
    databases: 0,
    toolVersion: "",
    ...urls,
    error,
  });
  if (!objects.xml || !manifest) {
    if (!objects.zip) return undefined;
    return unrestorable(objects.zip.lastModified, objects.zip.size, "No manifest: the backup was interrupted before it finished. It cannot be restored.");
  }
  if ("foreign" in manifest) {
    onWarning?.(`Skipped ${store.urlOf(names.manifest)}: ${manifest.foreign}.`);
    return undefined;
  }
  if ("unreadable" in manifest) return unrestorable(objects.xml.lastModified, 0, manifest.unreadable);
  if ("facts" in manifest) return { name, ...manifest.facts, ...urls };
  const summary = manifest.summary;
  const mismatch = manifestMismatch(summary, name, names.manifest);
  if (mismatch) {
    onWarning?.(`Skipped ${store.urlOf(names.manifest)}: ${mismatch} ${manifestMismatchHint}`);
    return undefined;
  }
  return { name, ...catalogFactsOf(summary), ...urls };
}
