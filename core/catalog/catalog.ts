import { AppBackupError } from "../errors.js";
import type { BackupManifest, BackupStatus, BackupTrigger, ManifestSummary } from "../manifest/manifest.js";
import { parseManifest, summaryFromHead, parseManifestSummary } from "../manifest/xml.js";
import { blobNames } from "../backup/name.js";
import type { Store } from "../store/store.js";

/** One backup in a container, as `list` shows it. */
export interface BackupListing {
  name: string;
  appName: string;
  status: BackupStatus;
  trigger: BackupTrigger;
  startedAt: Date;
  finishedAt: Date;
  sizeBytes: number;
  files: number;
  databases: number;
  zip?: string;
  manifest?: string;
  log?: string;
  error?: string;
}

const headBytes = 64 * 1024;

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
    files: b.files,
    databases: b.databases,
    zip: b.zip ?? null,
    manifest: b.manifest ?? null,
    ...(b.error ? { error: b.error } : {}),
  };
}

/** The backups in a container, newest first. A zip without a manifest was interrupted and is listed as Failed. */
export async function listBackups(store: Store, options: { appName?: string } = {}): Promise<BackupListing[]> {
  const objects = await store.list();
  const byName = new Map<string, Set<string>>();
  for (const object of objects) {
    const match = object.name.match(/^(.+)\.(zip|xml|log)$/);
    if (!match) continue;
    const kinds = byName.get(match[1]!) ?? new Set<string>();
    kinds.add(match[2]!);
    byName.set(match[1]!, kinds);
  }
  const listings: BackupListing[] = [];
  const names = [...byName.keys()];
  // A few manifest reads at once: fast on blob storage without flooding it.
  for (let i = 0; i < names.length; i += 8) {
    const batch = await Promise.all(names.slice(i, i + 8).map((name) => listingOf(store, name, byName.get(name)!)));
    for (const listing of batch) if (listing) listings.push(listing);
  }
  return listings
    .filter((l) => !options.appName || l.appName === options.appName)
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.name.localeCompare(a.name));
}

async function listingOf(store: Store, name: string, kinds: Set<string>): Promise<BackupListing | undefined> {
  const names = blobNames(name);
  const urls = {
    zip: kinds.has("zip") ? store.urlOf(names.zip) : undefined,
    manifest: kinds.has("xml") ? store.urlOf(names.manifest) : undefined,
    log: kinds.has("log") ? store.urlOf(names.log) : undefined,
  };
  /** A backup that cannot be restored and has no readable manifest to describe it. */
  const unrestorable = (stamp: Date | undefined, sizeBytes: number, error: string): BackupListing => ({
    name,
    appName: name.replace(/_\d{14}$/, ""),
    status: "Failed",
    trigger: "OnDemand",
    startedAt: stamp ?? new Date(0),
    finishedAt: stamp ?? new Date(0),
    sizeBytes,
    files: 0,
    databases: 0,
    ...urls,
    error,
  });
  if (!kinds.has("xml")) {
    if (!kinds.has("zip")) return undefined;
    const zip = await store.stat(names.zip);
    return unrestorable(zip?.lastModified, zip?.size ?? 0, "No manifest: the backup was interrupted before it finished. It cannot be restored.");
  }
  let summary: ManifestSummary;
  try {
    summary = await readManifestSummary(store, name);
  } catch (error) {
    return unrestorable((await store.stat(names.manifest))?.lastModified, 0, (error as Error).message);
  }
  return {
    name,
    appName: summary.appName,
    status: summary.status,
    trigger: summary.trigger,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    sizeBytes: summary.zip?.sizeBytes ?? 0,
    files: summary.files,
    databases: summary.databases.length,
    ...urls,
    error: summary.error,
  };
}

/** The manifest's summary from its head when it fits, else from the whole document. */
export async function readManifestSummary(store: Store, name: string): Promise<ManifestSummary> {
  const manifestName = blobNames(name).manifest;
  const info = await store.stat(manifestName);
  if (!info) throw notFound(store, name);
  if (info.size > headBytes) {
    const head = await streamToBuffer(await store.read(manifestName, { offset: 0, length: headBytes }));
    const summary = summaryFromHead(head.toString("utf8"), manifestName);
    if (summary) return summary;
  }
  return parseManifestSummary((await store.readAll(manifestName)).toString("utf8"), manifestName);
}

export async function readManifest(store: Store, name: string): Promise<BackupManifest> {
  const manifestName = blobNames(name).manifest;
  if (!(await store.exists(manifestName))) throw notFound(store, name);
  return parseManifest((await store.readAll(manifestName)).toString("utf8"), manifestName);
}

/** Deletes a backup's zip, manifest and log together; the manifest first, so a half-deleted backup is never listed as restorable. */
export async function deleteBackup(store: Store, name: string): Promise<void> {
  const names = blobNames(name);
  await store.delete(names.manifest);
  await store.delete(names.zip);
  await store.delete(names.log);
}

function notFound(store: Store, name: string): AppBackupError {
  return new AppBackupError(
    "BACKUP_NOT_FOUND",
    `No backup named ${name} in ${store.location}.`,
    "Run `app-backup list --config FILE` to see the backups in the container.",
  );
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
