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
 * attribute by attribute from the bytes, with the same results as that parser
 * (same attributes, the five predefined XML entities decoded). Every string is
 * decoded on its own, so none keeps the whole document in memory.
 */
export async function readManifestQuickly(store: Store, name: string, objectName = blobNames(name).manifest): Promise<BackupManifest> {
  if (!(await store.exists(objectName))) {
    throw new AppBackupError(
      "BACKUP_NOT_FOUND",
      `No backup named ${name} in ${store.location}.`,
      "Run `app-backup list --config FILE` to see the backups in the container.",
    );
  }
  return parseManifestQuickly(await store.readAll(objectName), objectName);
}

const ENTRIES = Buffer.from("<Entries");
const ENTRY = Buffer.from("<Entry");
const ENTRIES_END = Buffer.from("</Entries>");
const QUOTE = 0x22;
const EQUALS = 0x3d;
const AMPERSAND = 0x26;

export function parseManifestQuickly(xml: Buffer, source: string): BackupManifest {
  const start = xml.indexOf(ENTRIES);
  const summary = start < 0 ? parseManifestSummary(xml.toString("utf8"), source) : (summaryFromHead(xml.toString("utf8", 0, start + ENTRIES.length), source) ?? parseManifestSummary(xml.toString("utf8"), source));
  if (start < 0) return { ...summary, entries: [] };
  const openEnd = xml.indexOf(">", start);
  if (openEnd < 0) throw corrupt(source, "its entry list is cut off");
  const head = xml.toString("utf8", start, openEnd + 1);
  const declared = Number(/\bcount="(\d+)"/.exec(head)?.[1] ?? Number.NaN);
  const entries: ArchiveEntry[] = [];
  if (!head.endsWith("/>")) {
    const end = xml.indexOf(ENTRIES_END, openEnd);
    if (end < 0) throw corrupt(source, "its entry list is not closed (the file is truncated)");
    let at = xml.indexOf(ENTRY, openEnd);
    while (at >= 0 && at < end) {
      const next = readEntry(xml, at + ENTRY.length, entries, source);
      at = xml.indexOf(ENTRY, next);
    }
  }
  const count = Number.isNaN(declared) ? entries.length : declared;
  if (count !== entries.length) throw corrupt(source, `it declares ${count} entries but lists ${entries.length}`);
  return { ...summary, entries };
}

function corrupt(source: string, what: string): AppBackupError {
  return new AppBackupError("BACKUP_CORRUPT", `The manifest ${source} is damaged: ${what}.`);
}

const KEYS = ["name", "name64", "kind", "size", "compressedSize", "method", "crc32", "sha256", "mtime", "mode", "linkTarget", "linkTarget64"] as const;
type Key = (typeof KEYS)[number];
const KEY_BYTES = KEYS.map((key) => ({ key, bytes: Buffer.from(key) }));

/** Which known attribute name lies at xml[start, end), compared byte by byte (no string made). */
function keyAt(xml: Buffer, start: number, end: number): Key | undefined {
  const length = end - start;
  outer: for (const { key, bytes } of KEY_BYTES) {
    if (bytes.length !== length || bytes[0] !== xml[start]) continue;
    for (let i = 1; i < length; i++) if (bytes[i] !== xml[start + i]) continue outer;
    return key;
  }
  return undefined;
}

/** A non-negative integer written in `radix` digits; NaN if anything else is there (as Number() would give). */
function integerAt(xml: Buffer, start: number, end: number, radix: number): number {
  if (start === end) return radix === 10 ? 0 : Number.NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = xml[i]!;
    const digit = code >= 48 && code <= 57 ? code - 48 : code >= 97 && code <= 102 ? code - 87 : code >= 65 && code <= 70 ? code - 55 : 99;
    if (digit >= radix) return radix === 10 ? Number(latin1(xml, start, end)) : parseInt(latin1(xml, start, end), radix);
    value = value * radix + digit;
  }
  return value;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` as toISOString writes it, without making a string; anything else through Date's parser. */
function timeAt(xml: Buffer, start: number, end: number): Date {
  if (end - start === 24 && xml[start + 10] === 0x54 && xml[start + 23] === 0x5a && xml[start + 19] === 0x2e) {
    const n = (from: number, length: number) => integerAt(xml, start + from, start + from + length, 10);
    const ms = Date.UTC(n(0, 4), n(5, 2) - 1, n(8, 2), n(11, 2), n(14, 2), n(17, 2), n(20, 3));
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  return new Date(text(xml, start, end));
}

/** Reads one `<Entry a="..." .../>` element written by the project's XML builder; returns where it ends. */
function readEntry(xml: Buffer, from: number, entries: ArchiveEntry[], source: string): number {
  const entry: ArchiveEntry = { name: "", kind: "file", size: Number.NaN, compressedSize: Number.NaN, method: "store", crc32: 0, sha256: "", mtime: new Date(0), mode: 0 };
  let kind: string | undefined;
  let method: string | undefined;
  let name64: string | undefined;
  let target64: string | undefined;
  let at = from;
  for (;;) {
    let code = xml[at];
    while (code === 32 || code === 10 || code === 13 || code === 9) code = xml[++at];
    if (code === 0x2f /* / */ || code === 0x3e /* > */) {
      entry.kind = kind as ArchiveEntry["kind"];
      entry.method = method as ArchiveEntry["method"];
      if (name64 !== undefined) entry.name = Buffer.from(name64, "base64").toString();
      if (target64 !== undefined) entry.linkTarget = Buffer.from(target64, "base64").toString();
      entries.push(entry);
      return code === 0x2f ? at + 2 : at + 1;
    }
    // Byte loops rather than indexOf: the distances are a few bytes, shorter than a native call costs.
    let equals = at;
    while (equals < xml.length && xml[equals] !== EQUALS) equals++;
    if (equals >= xml.length || xml[equals + 1] !== QUOTE) throw corrupt(source, `an entry is malformed near byte ${at}`);
    const valueStart = equals + 2;
    let valueEnd = valueStart;
    while (valueEnd < xml.length && xml[valueEnd] !== QUOTE) valueEnd++;
    if (valueEnd >= xml.length) throw corrupt(source, `an entry is malformed near byte ${at}`);
    switch (keyAt(xml, at, equals)) {
      case "name":
        entry.name = text(xml, valueStart, valueEnd);
        break;
      case "name64":
        name64 = text(xml, valueStart, valueEnd);
        break;
      case "kind":
        kind = word(xml, valueStart, valueEnd);
        break;
      case "size":
        entry.size = integerAt(xml, valueStart, valueEnd, 10);
        break;
      case "compressedSize":
        entry.compressedSize = integerAt(xml, valueStart, valueEnd, 10);
        break;
      case "method":
        method = word(xml, valueStart, valueEnd);
        break;
      case "crc32":
        entry.crc32 = valueStart === valueEnd ? 0 : integerAt(xml, valueStart, valueEnd, 16);
        break;
      case "sha256":
        entry.sha256 = latin1(xml, valueStart, valueEnd);
        break;
      case "mtime":
        entry.mtime = timeAt(xml, valueStart, valueEnd);
        break;
      case "mode":
        entry.mode = valueStart === valueEnd ? 0 : integerAt(xml, valueStart, valueEnd, 8);
        break;
      case "linkTarget":
        entry.linkTarget = text(xml, valueStart, valueEnd);
        break;
      case "linkTarget64":
        target64 = text(xml, valueStart, valueEnd);
        break;
      default:
        if (!/^[A-Za-z_][\w.-]*$/.test(latin1(xml, at, equals))) throw corrupt(source, `an entry is malformed near byte ${at}`);
    }
    at = valueEnd + 1;
  }
}

const WORDS = ["file", "directory", "symlink", "deflate", "store"].map((word) => ({ word, bytes: Buffer.from(word) }));

/** The known kind and method values as shared constants; anything else decoded. */
function word(xml: Buffer, start: number, end: number): string {
  outer: for (const { word, bytes } of WORDS) {
    if (bytes.length !== end - start) continue;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== xml[start + i]) continue outer;
    return word;
  }
  return text(xml, start, end);
}

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

const latin1 = (xml: Buffer, start: number, end: number) => xml.toString("latin1", start, end);

/** An attribute value: UTF-8, with the predefined entities decoded. */
function text(xml: Buffer, start: number, end: number): string {
  const value = xml.toString("utf8", start, end);
  for (let i = start; i < end; i++) {
    if (xml[i] === AMPERSAND) return value.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => entities[name]!);
  }
  return value;
}
