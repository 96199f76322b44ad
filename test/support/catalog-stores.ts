import type { Readable } from "node:stream";
import { backupNameFor, blobNames } from "../../core/format/backup-name.js";
import { catalogFactsOf, catalogMetadataOf } from "../../core/format/catalog-metadata.js";
import { manifestToXml } from "../../core/format/manifest-xml.js";
import type { BackupManifest, BackupStatus, BackupTrigger } from "../../core/format/manifest.js";
import type { ReusableBufferSource } from "../../core/archive/random-access-source.js";
import type { CallOptions, ListOptions, Store, StoredObject } from "../../core/store/store.js";

/**
 * A real store with every request it serves counted: a listing shows whether a
 * command opened manifests or listed more than it should.
 */
export function countingStore(inner: Store): Store & { reads: string[]; lists: Array<{ prefix: string; options?: ListOptions }> } {
  const reads: string[] = [];
  const lists: Array<{ prefix: string; options?: ListOptions }> = [];
  return Object.assign(Object.create(inner) as Store, {
    reads,
    lists,
    list(prefix?: string, options?: ListOptions): AsyncIterable<StoredObject> {
      lists.push({ prefix: prefix ?? "", options });
      return inner.list(prefix, options);
    },
    read(name: string, range?: { offset: number; length: number }, options?: CallOptions): Promise<Readable> {
      reads.push(name);
      return inner.read(name, range, options);
    },
    readAll(name: string, options?: CallOptions): Promise<Buffer> {
      reads.push(name);
      return inner.readAll(name, options);
    },
    openRandomAccess(name: string, options?: CallOptions): Promise<ReusableBufferSource> {
      reads.push(name);
      return inner.openRandomAccess(name, options);
    },
  });
}

export interface CraftedBackup {
  app: string;
  startedAt: Date;
  /** 2, 3, … for a further backup in the same second. */
  sequence?: number;
  status?: BackupStatus;
  trigger?: BackupTrigger;
  /** Whether the manifest carries its facts as metadata, as backups made since it does. */
  withFacts: boolean;
}

/** Writes a backup's zip, log and manifest as a backup does (the manifest last), without running one. */
export async function writeCraftedBackup(store: Store, backup: CraftedBackup): Promise<string> {
  const name = backupNameFor(backup.app, backup.startedAt, backup.sequence ?? 1);
  const names = blobNames(name);
  const status = backup.status ?? "Succeeded";
  const restorable = status === "Succeeded" || status === "PartiallySucceeded";
  const zip = Buffer.from(`zip of ${name}`);
  if (restorable) await store.put(names.zip, zip);
  await store.put(names.log, `Backup ${name} ${status}.\n`);
  const manifest: BackupManifest = {
    formatVersion: 1,
    appName: backup.app,
    backupName: name,
    status,
    trigger: backup.trigger ?? "Scheduled",
    startedAt: backup.startedAt,
    finishedAt: new Date(backup.startedAt.getTime() + 1500),
    toolVersion: "0.1.0",
    ...(restorable ? { zip: { name: names.zip, sizeBytes: zip.length } } : {}),
    contentBytes: restorable ? 42 : 0,
    files: restorable ? 3 : 0,
    ...(restorable ? {} : { error: "Database MainDb cannot be reached." }),
    origin: {},
    filter: { source: "", lines: [] },
    warnings: [],
    databases: [],
    skipped: [],
    entries: [],
  };
  const metadata = backup.withFacts ? catalogMetadataOf(catalogFactsOf(manifest)) : undefined;
  await store.put(names.manifest, manifestToXml(manifest), metadata ? { metadata } : {});
  return name;
}
