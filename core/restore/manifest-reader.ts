import { EntryTable } from "../archive/entry-table.js";
import { blobNames } from "../backup/name.js";
import { AppBackupError } from "../errors.js";
import type { BackupManifest, ManifestSummary } from "../manifest/manifest.js";
import { parseManifestSummary, summaryFromHead } from "../manifest/xml.js";
import type { Store } from "../store/store.js";

/**
 * Reads a manifest with a scanner for its entry list: a backup of tens of
 * thousands of files has a manifest of tens of MB, which a general XML parser
 * takes seconds and hundreds of MB to turn into objects. The summary (before
 * `<Entries`) still goes through the project's parser; the entries are read
 * attribute by attribute from the bytes into an EntryTable, with the same
 * values as that parser gives (same attributes, the five predefined XML
 * entities decoded).
 */
export async function readManifestTable(store: Store, name: string, objectName = blobNames(name).manifest): Promise<{ summary: ManifestSummary; table: EntryTable }> {
  if (!(await store.exists(objectName))) {
    throw new AppBackupError(
      "BACKUP_NOT_FOUND",
      `No backup named ${name} in ${store.location}.`,
      "Run `app-backup list --config FILE` to see the backups in the container.",
    );
  }
  // Streamed: the document is never held whole, only the entry being read.
  const reader = new ManifestTableReader(objectName);
  for await (const chunk of await store.read(objectName)) reader.push(chunk as Buffer);
  return reader.end();
}

/** The manifest with its entries as objects, the shape the rest of the project uses. */
export function parseManifestQuickly(xml: Buffer, source: string): BackupManifest {
  const { summary, table } = parseManifestTable(xml, source);
  return { ...summary, entries: table.toEntries() };
}

export function parseManifestTable(xml: Buffer, source: string): { summary: ManifestSummary; table: EntryTable } {
  const reader = new ManifestTableReader(source);
  reader.push(xml);
  return reader.end();
}

const ENTRIES = Buffer.from("<Entries");
const ENTRY = Buffer.from("<Entry");
const ENTRIES_END = Buffer.from("</Entries>");
const LESS_THAN = 0x3c;
const QUOTE = 0x22;
const EQUALS = 0x3d;
const AMPERSAND = 0x26;

/**
 * Reads a manifest pushed in chunks: the head (everything before the entry
 * list) is kept until the list starts, then each `<Entry .../>` is read into
 * the table as soon as it is complete. An element is complete once the next
 * `<` has arrived, as `<` never appears unescaped inside attribute values.
 */
class ManifestTableReader {
  private pending: Buffer = Buffer.alloc(0);
  private summary?: ManifestSummary;
  private table?: EntryTable;
  private declared = Number.NaN;
  private finished = false;

  constructor(private readonly source: string) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.table && !this.readHead()) return;
    if (!this.finished) this.readEntries();
  }

  end(): { summary: ManifestSummary; table: EntryTable } {
    if (!this.summary) {
      // No entry list at all (a Failed backup's manifest, or not a manifest): the summary says which.
      return { summary: parseManifestSummary(this.pending.toString("utf8"), this.source), table: new EntryTable(0) };
    }
    if (!this.finished) throw corrupt(this.source, "its entry list is not closed (the file is truncated)");
    const table = this.table!;
    const count = Number.isNaN(this.declared) ? table.count : this.declared;
    if (count !== table.count) throw corrupt(this.source, `it declares ${count} entries but lists ${table.count}`);
    return { summary: this.summary, table };
  }

  /** Parses the summary once the entry list's opening tag is complete; false until then. */
  private readHead(): boolean {
    const start = this.pending.indexOf(ENTRIES);
    if (start < 0) return false;
    const openEnd = this.pending.indexOf(">", start);
    if (openEnd < 0) return false;
    const text = this.pending.toString("utf8", 0, start + ENTRIES.length);
    this.summary = summaryFromHead(text, this.source) ?? parseManifestSummary(this.pending.toString("utf8"), this.source);
    const head = this.pending.toString("utf8", start, openEnd + 1);
    this.declared = Number(/\bcount="(\d+)"/.exec(head)?.[1] ?? Number.NaN);
    if (Number.isNaN(this.declared)) throw corrupt(this.source, "its entry list does not say how many entries it has");
    this.table = new EntryTable(this.declared);
    this.finished = head.endsWith("/>");
    this.pending = Buffer.from(this.pending.subarray(openEnd + 1));
    return true;
  }

  private readEntries(): void {
    const xml = this.pending;
    const table = this.table!;
    let at = xml.indexOf(LESS_THAN);
    while (at >= 0) {
      if (startsAt(xml, ENTRIES_END, at)) {
        this.finished = true;
        break;
      }
      const next = xml.indexOf(LESS_THAN, at + 1);
      if (next < 0) break;
      const after = xml[at + ENTRY.length];
      if (startsAt(xml, ENTRY, at) && (after === 32 || after === 9 || after === 10 || after === 13 || after === 0x2f || after === 0x3e)) {
        if (table.count >= table.capacity) throw corrupt(this.source, `it declares ${table.capacity} entries but lists more`);
        readEntry(xml.subarray(0, next), at + ENTRY.length, table, this.source);
      }
      at = next;
    }
    this.pending = at >= 0 && !this.finished ? Buffer.from(xml.subarray(at)) : Buffer.alloc(0);
  }
}

function startsAt(buffer: Buffer, prefix: Buffer, at: number): boolean {
  if (at + prefix.length > buffer.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
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
function timeAt(xml: Buffer, start: number, end: number): number {
  if (end - start === 24 && xml[start + 10] === 0x54 && xml[start + 23] === 0x5a && xml[start + 19] === 0x2e) {
    const n = (from: number, length: number) => integerAt(xml, start + from, start + from + length, 10);
    const ms = Date.UTC(n(0, 4), n(5, 2) - 1, n(8, 2), n(11, 2), n(14, 2), n(17, 2), n(20, 3));
    if (!Number.isNaN(ms)) return ms;
  }
  return new Date(text(xml, start, end)).getTime();
}

/** 64 hex digits into the table's digest column; false if the value is anything else. */
function digestAt(xml: Buffer, start: number, end: number, table: EntryTable, index: number): boolean {
  if (end - start !== 64) return false;
  const base = index * 32;
  for (let i = 0; i < 32; i++) {
    const high = hexDigit(xml[start + 2 * i]!);
    const low = hexDigit(xml[start + 2 * i + 1]!);
    if (high < 0 || low < 0) return false;
    table.sha256[base + i] = (high << 4) | low;
  }
  return true;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Reads one `<Entry a="..." .../>` element written by the project's XML builder into the next row of the table. */
function readEntry(xml: Buffer, from: number, table: EntryTable, source: string): void {
  const index = table.names.length;
  let name = "";
  let name64: string | undefined;
  let target: string | undefined;
  let target64: string | undefined;
  let kind: string | undefined;
  let method: string | undefined;
  table.sizes[index] = Number.NaN;
  table.compressedSizes[index] = Number.NaN;
  let at = from;
  for (;;) {
    let code = xml[at];
    while (code === 32 || code === 10 || code === 13 || code === 9) code = xml[++at];
    if (code === 0x2f /* / */ || code === 0x3e /* > */) break;
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
        name = text(xml, valueStart, valueEnd);
        break;
      case "name64":
        name64 = text(xml, valueStart, valueEnd);
        break;
      case "kind":
        kind = word(xml, valueStart, valueEnd);
        break;
      case "size":
        table.sizes[index] = integerAt(xml, valueStart, valueEnd, 10);
        break;
      case "compressedSize":
        table.compressedSizes[index] = integerAt(xml, valueStart, valueEnd, 10);
        break;
      case "method":
        method = word(xml, valueStart, valueEnd);
        break;
      case "crc32":
        table.crc32s[index] = valueStart === valueEnd ? 0 : integerAt(xml, valueStart, valueEnd, 16);
        break;
      case "sha256":
        table.hasSha256[index] = digestAt(xml, valueStart, valueEnd, table, index) ? 1 : 0;
        break;
      case "mtime":
        table.mtimes[index] = timeAt(xml, valueStart, valueEnd);
        break;
      case "mode":
        table.modes[index] = valueStart === valueEnd ? 0 : integerAt(xml, valueStart, valueEnd, 8);
        break;
      case "linkTarget":
        target = text(xml, valueStart, valueEnd);
        break;
      case "linkTarget64":
        target64 = text(xml, valueStart, valueEnd);
        break;
      default:
        if (!/^[A-Za-z_][\w.-]*$/.test(latin1(xml, at, equals))) throw corrupt(source, `an entry is malformed near byte ${at}`);
    }
    at = valueEnd + 1;
  }
  table.names.push(name64 !== undefined ? Buffer.from(name64, "base64").toString() : name);
  table.kinds[index] = EntryTable.kindCode(kind);
  table.methods[index] = method === "deflate" ? 8 : method === "store" ? 0 : 0xffff;
  if (target64 !== undefined) table.linkTargets.set(index, Buffer.from(target64, "base64").toString());
  else if (target !== undefined) table.linkTargets.set(index, target);
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
