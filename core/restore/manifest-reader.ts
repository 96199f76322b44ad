import type { ArchiveEntry } from "../archive/types.js";
import { blobNames } from "../backup/name.js";
import { AppBackupError } from "../errors.js";
import type { BackupManifest } from "../manifest/manifest.js";
import { parseManifestSummary, summaryFromHead } from "../manifest/xml.js";
import type { Store } from "../store/store.js";

/**
 * Reads a manifest with a scanner for its entry list: a backup of tens of
 * thousands of files has a manifest of tens of MB, which a general XML parser
 * takes seconds and hundreds of MB to turn into objects. The summary (before
 * `<Entries`) still goes through the project's parser; the entries are read
 * attribute by attribute, with the same results (same attributes, the five
 * predefined XML entities decoded).
 */
export async function readManifestQuickly(store: Store, name: string, objectName = blobNames(name).manifest): Promise<BackupManifest> {
  if (!(await store.exists(objectName))) {
    throw new AppBackupError(
      "BACKUP_NOT_FOUND",
      `No backup named ${name} in ${store.location}.`,
      "Run `app-backup list --config FILE` to see the backups in the container.",
    );
  }
  return parseManifestQuickly((await store.readAll(objectName)).toString("utf8"), objectName);
}

export function parseManifestQuickly(xml: string, source: string): BackupManifest {
  const summary = summaryFromHead(xml, source) ?? parseManifestSummary(xml, source);
  const start = xml.indexOf("<Entries");
  if (start < 0) return { ...summary, entries: [] };
  const openEnd = xml.indexOf(">", start);
  const head = xml.slice(start, openEnd + 1);
  const declared = Number(/\bcount="(\d+)"/.exec(head)?.[1] ?? Number.NaN);
  const entries: ArchiveEntry[] = [];
  if (!head.endsWith("/>")) {
    const end = xml.indexOf("</Entries>", openEnd);
    if (end < 0) throw corrupt(source, "its entry list is not closed (the file is truncated)");
    let at = xml.indexOf("<Entry", openEnd);
    while (at >= 0 && at < end) {
      typicalEntry.lastIndex = at;
      const match = typicalEntry.exec(xml);
      if (match) {
        entries.push(typicalEntryOf(match));
        at = xml.indexOf("<Entry", typicalEntry.lastIndex);
        continue;
      }
      const { attributes, next } = readAttributes(xml, at + "<Entry".length, source);
      entries.push(entryOf(attributes));
      at = xml.indexOf("<Entry", next);
    }
  }
  const count = Number.isNaN(declared) ? entries.length : declared;
  if (count !== entries.length) throw corrupt(source, `it declares ${count} entries but lists ${entries.length}`);
  return { ...summary, entries };
}

function corrupt(source: string, what: string): AppBackupError {
  return new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} is damaged: ${what}.`);
}

/** An entry exactly as the manifest writer lays it out; anything else goes through `readAttributes`. */
const typicalEntry =
  /<Entry name="([^"&]*)" kind="(file|directory|symlink)" size="(\d+)" compressedSize="(\d+)" method="(deflate|store)" crc32="([0-9a-f]{1,8})" sha256="([0-9a-f]*)" mtime="([^"]*)" mode="([0-7]+)"(?: linkTarget="([^"&]*)")?\/>/y;

function typicalEntryOf(m: RegExpExecArray): ArchiveEntry {
  const entry: ArchiveEntry = {
    name: m[1]!,
    kind: m[2] as ArchiveEntry["kind"],
    size: Number(m[3]),
    compressedSize: Number(m[4]),
    method: m[5] as ArchiveEntry["method"],
    crc32: parseInt(m[6]!, 16),
    sha256: m[7]!,
    mtime: new Date(m[8]!),
    mode: parseInt(m[9]!, 8),
  };
  if (m[10] !== undefined) entry.linkTarget = m[10];
  return entry;
}

/** Reads the attributes of one element written by the project's XML builder: `name="value"` pairs, values without raw quotes. */
function readAttributes(xml: string, from: number, source: string): { attributes: Record<string, string>; next: number } {
  const attributes: Record<string, string> = {};
  let at = from;
  for (;;) {
    let code = xml.charCodeAt(at);
    while (code === 32 || code === 10 || code === 13 || code === 9) code = xml.charCodeAt(++at);
    if (code === 47 /* / */ && xml.charCodeAt(at + 1) === 62) return { attributes, next: at + 2 };
    if (code === 62 /* > */) return { attributes, next: at + 1 };
    const equals = xml.indexOf("=\"", at);
    const close = equals < 0 ? -1 : xml.indexOf('"', equals + 2);
    if (close < 0 || equals === at) throw corrupt(source, `an entry is malformed near offset ${at}`);
    const name = xml.slice(at, equals);
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw corrupt(source, `an entry is malformed near offset ${at}`);
    attributes[name] = decodeEntities(xml.slice(equals + 2, close));
    at = close + 1;
  }
}

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(value: string): string {
  return value.includes("&") ? value.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => entities[name]!) : value;
}

function entryOf(a: Record<string, string>): ArchiveEntry {
  const name64 = a.name64;
  const target64 = a.linkTarget64;
  const target = a.linkTarget;
  return {
    name: name64 !== undefined ? Buffer.from(name64, "base64").toString() : (a.name ?? ""),
    kind: a.kind as ArchiveEntry["kind"],
    size: Number(a.size),
    compressedSize: Number(a.compressedSize),
    method: a.method as ArchiveEntry["method"],
    crc32: parseInt(a.crc32 ?? "0", 16),
    sha256: a.sha256 ?? "",
    mtime: new Date(a.mtime ?? 0),
    mode: parseInt(a.mode ?? "0", 8),
    ...(target64 !== undefined ? { linkTarget: Buffer.from(target64, "base64").toString() } : target !== undefined ? { linkTarget: target } : {}),
  };
}
