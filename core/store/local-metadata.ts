import type { BigIntStats } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { publishReplacing } from "../fs/publish.js";
import { partialPathOf } from "./partial-file.js";

/**
 * A local container keeps an object's metadata in a record beside it: the
 * hidden file `.metadata-{name}.json`. Hidden names are never listed as
 * objects, and no object name starts with '.', so a record never passes for
 * an object. A record whose object is gone, or whose object is another file
 * than the one it was written for, is garbage: it is never handed out, and
 * `check()` removes it once it is old (see `isAbandonedRecord`).
 */
export const metadataRecordPrefix = ".metadata-";
const metadataRecordSuffix = ".json";

export function metadataRecordFileOf(objectName: string): string {
  return `${metadataRecordPrefix}${objectName}${metadataRecordSuffix}`;
}

/** The object a file of the container is the metadata record of, or undefined when it is not a record. */
export function objectOfMetadataRecord(fileName: string): string | undefined {
  if (!fileName.startsWith(metadataRecordPrefix) || !fileName.endsWith(metadataRecordSuffix)) return undefined;
  const name = fileName.slice(metadataRecordPrefix.length, -metadataRecordSuffix.length);
  return name.length > 0 ? name : undefined;
}

/**
 * Which file a record was written for: its inode, size and modification
 * time, which linking or renaming it into place keeps. A record is written
 * before its object becomes visible, so an object whose record was replaced by
 * a writer that then lost the race for the name (or crashed before its rename)
 * finds a record of another file and reads as having no metadata: a listing
 * then reads the object itself, never someone else's facts.
 */
interface FileIdentity {
  file: string;
  size: number;
  modifiedNs: string;
}

interface MetadataRecord extends FileIdentity {
  object: string;
  metadata: Record<string, string>;
}

export function identityOf(info: BigIntStats): FileIdentity {
  return { file: String(info.ino), size: Number(info.size), modifiedNs: String(info.mtimeNs) };
}

/** Publishes the record of `objectName`, written for the file `identity` names, replacing any older one whole. */
export async function writeMetadataRecord(root: string, objectName: string, identity: FileIdentity, metadata: Readonly<Record<string, string>>): Promise<void> {
  const record: MetadataRecord = { object: objectName, ...identity, metadata: { ...metadata } };
  const file = metadataRecordFileOf(objectName);
  await publishReplacing(path.join(root, file), JSON.stringify(record), { temp: partialPathOf(root, file) });
}

/** The metadata recorded for the object whose file is `info`, or undefined when there is no record of that very file. */
export async function readMetadataRecord(root: string, objectName: string, info: BigIntStats): Promise<Record<string, string> | undefined> {
  const record = await recordOf(root, objectName);
  return record && sameFile(record, identityOf(info)) ? record.metadata : undefined;
}

export async function removeMetadataRecord(root: string, objectName: string): Promise<void> {
  await rm(path.join(root, metadataRecordFileOf(objectName)), { force: true });
}

/** A record of no current object: its object was deleted, replaced without metadata, or never published. */
export async function isAbandonedRecord(root: string, objectName: string): Promise<boolean> {
  const record = await recordOf(root, objectName);
  if (!record) return true;
  const info = await stat(path.join(root, objectName), { bigint: true }).catch(() => undefined);
  return !info || !info.isFile() || !sameFile(record, identityOf(info));
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.file === b.file && a.size === b.size && a.modifiedNs === b.modifiedNs;
}

/** The record as written, or undefined when it is missing or not one (a record is data in the container, not ours to trust). */
async function recordOf(root: string, objectName: string): Promise<MetadataRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(root, metadataRecordFileOf(objectName)), "utf8");
  } catch (error) {
    // A folder under a record's name is no record either.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR") return undefined;
    throw error;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRecordOf(record, objectName) ? record : undefined;
}

function isRecordOf(value: unknown, objectName: string): value is MetadataRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Partial<Record<keyof MetadataRecord, unknown>>;
  const metadata = record.metadata;
  return (
    record.object === objectName &&
    typeof record.file === "string" &&
    typeof record.size === "number" &&
    typeof record.modifiedNs === "string" &&
    typeof metadata === "object" &&
    metadata !== null &&
    !Array.isArray(metadata) &&
    Object.values(metadata).every((v) => typeof v === "string")
  );
}
