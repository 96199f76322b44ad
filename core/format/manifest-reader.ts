import { EntryTable } from "../archive/entry-table.js";
import { NameIndex } from "../archive/name-table.js";
import { AppBackupError } from "../errors.js";
import type { Store } from "../store/store.js";
import { blobNames } from "./backup-name.js";
import { nameProblem } from "./entry-name.js";
import { parseManifestSummary, summaryFromHead } from "./manifest-xml-parse.js";
import { MANIFEST_HEAD_LIMIT_BYTES, type BackupManifest, type ManifestSummary } from "./manifest.js";

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
  const stored = await store.stat(objectName);
  if (!stored) {
    throw new AppBackupError(
      "BACKUP_NOT_FOUND",
      `No backup named ${name} in ${store.location}.`,
      "Run `app-backup list --config FILE` to see the backups in the container.",
    );
  }
  // Streamed: the document is never held whole, only the entry being read.
  const reader = new ManifestTableReader(objectName, stored.size);
  for await (const chunk of await store.read(objectName)) reader.push(chunk as Buffer);
  return reader.end();
}

/** The manifest with its entries as objects, the shape the rest of the project uses. */
export function parseManifestQuickly(xml: Buffer, source: string): BackupManifest {
  const { summary, table } = parseManifestTable(xml, source);
  return { ...summary, entries: table.toEntries() };
}

export function parseManifestTable(xml: Buffer, source: string): { summary: ManifestSummary; table: EntryTable } {
  return parseManifestChunks([xml], source, xml.length);
}

/** A manifest as it arrives from a store, in chunks of any size: the work is linear in its bytes however they are cut. */
export function parseManifestChunks(chunks: Iterable<Buffer>, source: string, byteLength?: number): { summary: ManifestSummary; table: EntryTable } {
  const reader = new ManifestTableReader(source, byteLength);
  for (const chunk of chunks) reader.push(chunk);
  return reader.end();
}

const ENTRIES = Buffer.from("<Entries");
const ENTRY = Buffer.from("<Entry");
const ENTRIES_END = Buffer.from("</Entries>");
const EMPTY = Buffer.alloc(0);
const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const SLASH = 0x2f;
const QUOTE = 0x22;
const EQUALS = 0x3d;
const AMPERSAND = 0x26;

const MAX_HEAD_BYTES = MANIFEST_HEAD_LIMIT_BYTES;
/** An entry's element: a name and a link target of 4 KB each, escaped, fit many times over. */
const MAX_ENTRY_BYTES = 1024 * 1024;
const MAX_OPENING_TAG_BYTES = 4096;
/** What may follow the entry list: the root's closing tag and white space. */
const MAX_CLOSING_BYTES = 4096;
/**
 * Rows the table starts with at most when the manifest's size is not known:
 * a declared count is the manifest's word, so the table grows as entries
 * actually arrive, and the count is checked against them at the end.
 */
const MAX_INITIAL_ROWS = 64 * 1024;
/**
 * The fewest bytes an entry element can take (`<Entry name="a" kind="file"
 * size="0" compressedSize="0" method="store" crc32="0" mtime="1" mode="0"/>`
 * is 101): a manifest of known size lists at most its size / this many
 * entries, so its declared count, so bounded, sizes the table at once and a
 * large one is never copied as it doubles.
 */
export const MIN_ENTRY_BYTES = 100;

const isSpace = (code: number | undefined) => code === 32 || code === 10 || code === 13 || code === 9;

/**
 * Reads a manifest pushed in chunks, in one pass over its bytes: the head is
 * kept (searched for the entry list only in what is new) until the list
 * starts, then each `<Entry .../>` is read into the table as soon as it is
 * complete. An element is complete once the next `<` has arrived, as `<` never
 * appears unescaped inside attribute values.
 *
 * Only what the project's writer produces is accepted: `<Entry .../>` elements
 * and white space inside the list, the root's closing tag after it. Anything
 * else is a damaged or altered manifest, refused before any entry is used.
 */
class ManifestTableReader {
  private phase: "head" | "opening" | "entries" | "closing" = "head";
  private readonly headChunks: Buffer[] = [];
  private headBytes = 0;
  /** The head's last bytes, searched again with the next chunk for an `<Entries` split between them. */
  private carry: Buffer = EMPTY;
  /** Bytes of an element (or closing text) not complete yet. */
  private pending: Buffer = EMPTY;
  /** Chunks that continue the pending element without completing it: joined once it is complete. */
  private readonly continuation: Buffer[] = [];
  private continuationBytes = 0;
  private summary?: ManifestSummary;
  private table?: EntryTable;
  private declared = 0;
  /** Rows by name, to refuse a name listed twice. */
  private byName?: NameIndex;

  /** `byteLength` is the manifest's size when known: it bounds the rows made up front for the declared count. */
  constructor(
    private readonly source: string,
    private readonly byteLength?: number,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.phase === "head") {
      this.pushHead(chunk);
      return;
    }
    if (this.continuesEntry(chunk)) return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, ...this.continuation.splice(0), chunk]) : chunk;
    this.continuationBytes = 0;
    this.advance();
  }

  /**
   * Keeps a chunk aside when it only continues an entry element (it holds no
   * `<`, so the element is still not complete): a long element cut into many
   * small chunks is then joined once, never copied again with every chunk.
   */
  private continuesEntry(chunk: Buffer): boolean {
    if (this.phase !== "entries" || this.pending.length <= ENTRY.length || !startsAt(this.pending, ENTRY, 0) || chunk.indexOf(LESS_THAN) >= 0) return false;
    this.continuation.push(chunk);
    this.continuationBytes += chunk.length;
    if (this.pending.length + this.continuationBytes > MAX_ENTRY_BYTES) {
      throw corrupt(this.source, `entry ${this.table!.count + 1} is longer than ${MAX_ENTRY_BYTES / 1024 / 1024} MB`);
    }
    return true;
  }

  end(): { summary: ManifestSummary; table: EntryTable } {
    if (this.phase === "head") {
      // No entry list at all (a Failed backup's manifest, or not a manifest): the summary says which.
      const head = Buffer.concat(this.headChunks, this.headBytes);
      refuseDeclarations(head, head.length, this.source);
      return { summary: parseManifestSummary(head.toString("utf8"), this.source), table: new EntryTable(0) };
    }
    if (this.phase !== "closing") throw corrupt(this.source, "its entry list is not closed (the file is truncated)");
    if (!/^\s*<\/BackupManifest>\s*$/.test(this.pending.toString("latin1"))) {
      throw corrupt(this.source, "its entry list is not followed by the end of the manifest (the file is truncated or has content after its entries)");
    }
    const table = this.table!;
    if (this.declared !== table.count) throw corrupt(this.source, `it declares ${this.declared} entries but lists ${table.count}`);
    this.byName = undefined;
    table.trim();
    return { summary: this.summary!, table };
  }

  /** Keeps a chunk of the head, looking for the entry list's start only in bytes not searched yet. */
  private pushHead(chunk: Buffer): void {
    const window = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const found = window.indexOf(ENTRIES);
    this.headChunks.push(chunk);
    this.headBytes += chunk.length;
    if (found < 0) {
      if (this.headBytes > MAX_HEAD_BYTES) throw corrupt(this.source, `it has no entry list within its first ${MAX_HEAD_BYTES / 1024 / 1024} MB`);
      this.carry = Buffer.from(window.subarray(Math.max(0, window.length - (ENTRIES.length - 1))));
      return;
    }
    const start = this.headBytes - window.length + found;
    if (start > MAX_HEAD_BYTES) throw corrupt(this.source, `it has no entry list within its first ${MAX_HEAD_BYTES / 1024 / 1024} MB`);
    const head = Buffer.concat(this.headChunks, this.headBytes);
    this.headChunks.length = 0;
    this.carry = EMPTY;
    refuseDeclarations(head, start, this.source);
    this.summary = summaryFromHead(head.toString("utf8", 0, start + ENTRIES.length), this.source);
    if (!this.summary) throw corrupt(this.source, "its entry list cannot be found");
    this.phase = "opening";
    this.pending = head.subarray(start);
    this.advance();
  }

  private advance(): void {
    if (this.phase === "opening") this.readOpeningTag();
    if (this.phase === "entries") this.readEntries();
    if (this.phase === "closing" && this.pending.length > MAX_CLOSING_BYTES) {
      throw corrupt(this.source, "it has content after its entry list");
    }
  }

  /** `<Entries count="N">`: the count is a promise checked at the end, never a size to allocate. */
  private readOpeningTag(): void {
    const close = this.pending.indexOf(GREATER_THAN);
    if (close < 0) {
      if (this.pending.length > MAX_OPENING_TAG_BYTES) throw corrupt(this.source, "the opening tag of its entry list is not closed");
      return;
    }
    const tag = this.pending.toString("latin1", 0, close + 1);
    const match = /^<Entries(?:\s+[A-Za-z_][\w.-]*="[^"<>]*")*\s*(\/?)>$/.exec(tag);
    if (!match) throw corrupt(this.source, "the opening tag of its entry list is malformed");
    const count = /\scount="([^"]*)"/.exec(tag)?.[1];
    if (count === undefined) throw corrupt(this.source, "its entry list does not say how many entries it has");
    if (!/^\d{1,16}$/.test(count) || !Number.isSafeInteger(Number(count))) {
      throw corrupt(this.source, `its entry list declares ${JSON.stringify(shortened(count))} entries, which is not a count`);
    }
    this.declared = Number(count);
    const rows = Math.min(this.declared, this.byteLength === undefined ? MAX_INITIAL_ROWS : Math.ceil(this.byteLength / MIN_ENTRY_BYTES));
    this.table = new EntryTable(rows, "manifest");
    this.byName = new NameIndex(this.table.names, rows);
    this.phase = match[1] ? "closing" : "entries";
    this.pending = Buffer.from(this.pending.subarray(close + 1));
  }

  private readEntries(): void {
    const xml = this.pending;
    const table = this.table!;
    let at = 0;
    for (;;) {
      while (at < xml.length && isSpace(xml[at])) at++;
      if (at >= xml.length) break;
      if (xml[at] !== LESS_THAN) throw corrupt(this.source, `its entry list holds text after entry ${table.count}`);
      if (startsAt(xml, ENTRIES_END, at)) {
        this.phase = "closing";
        this.pending = Buffer.from(xml.subarray(at + ENTRIES_END.length));
        return;
      }
      const next = xml.indexOf(LESS_THAN, at + 1);
      if (next < 0) break;
      const after = xml[at + ENTRY.length];
      if (!startsAt(xml, ENTRY, at) || !(isSpace(after) || after === SLASH)) {
        throw corrupt(this.source, `its entry list holds ${JSON.stringify(shortened(latin1(xml, at, Math.min(next, at + 40))))} after entry ${table.count}, where only entries belong`);
      }
      const index = table.count;
      if (next - at > MAX_ENTRY_BYTES) throw corrupt(this.source, `entry ${index + 1} is longer than ${MAX_ENTRY_BYTES / 1024 / 1024} MB`);
      if (index >= this.declared) throw corrupt(this.source, `it declares ${this.declared} entries but lists more`);
      table.reserve(index);
      const end = readEntry(xml, at + ENTRY.length, next, table, this.source);
      for (let i = end; i < next; i++) {
        if (!isSpace(xml[i])) throw corrupt(this.source, `entry ${index + 1} (${shownName(table.name(index))}) is followed by text`);
      }
      if (this.byName!.add(index) >= 0) throw corrupt(this.source, `it lists ${shownName(table.name(index))} twice`);
      at = next;
    }
    if (xml.length - at > MAX_ENTRY_BYTES) throw corrupt(this.source, `entry ${table.count + 1} is longer than ${MAX_ENTRY_BYTES / 1024 / 1024} MB`);
    // A copy: the rest of the chunk it came from is let go.
    this.pending = at >= xml.length ? EMPTY : Buffer.from(xml.subarray(at));
  }
}

/** `<!` starts a DOCTYPE (with its entities), a comment or CDATA: none of them is in a manifest app-backup writes. */
function refuseDeclarations(head: Buffer, end: number, source: string): void {
  const at = head.indexOf("<!");
  if (at >= 0 && at < end) throw corrupt(source, "it holds a declaration (<!…) that app-backup never writes");
}

function startsAt(buffer: Buffer, prefix: Buffer, at: number): boolean {
  if (at + prefix.length > buffer.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
}

function corrupt(source: string, what: string): AppBackupError {
  return new AppBackupError(
    "BACKUP_CORRUPT",
    `The manifest ${source} is damaged: ${what}. It was not used; nothing was changed.`,
    "The manifest was damaged or altered after the backup. Restore another backup.",
  );
}

/** Hostile values can be megabytes long: messages show their start. */
function shortened(value: string): string {
  return value.length > 120 ? `${value.slice(0, 120)}…` : value;
}

const shownName = (name: string) => JSON.stringify(shortened(name));

const KEYS = ["name", "name64", "kind", "size", "compressedSize", "method", "crc32", "sha256", "mtime", "mode", "linkTarget", "linkTarget64"] as const;
const KEY_BYTES = KEYS.map((key) => Buffer.from(key));

/** Which known attribute name lies at xml[start, end), as its index in KEYS (-1 for none), compared byte by byte (no string made). */
function keyAt(xml: Buffer, start: number, end: number): number {
  const length = end - start;
  outer: for (let key = 0; key < KEY_BYTES.length; key++) {
    const bytes = KEY_BYTES[key]!;
    if (bytes.length !== length || bytes[0] !== xml[start]) continue;
    for (let i = 1; i < length; i++) if (bytes[i] !== xml[start + i]) continue outer;
    return key;
  }
  return -1;
}

/**
 * A non-negative integer of at most `maxDigits` digits in `radix`; NaN for
 * anything else (a sign, an exponent, white space, nothing at all).
 */
function integerAt(xml: Buffer, start: number, end: number, radix: number, maxDigits: number): number {
  if (start === end || end - start > maxDigits) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = hexDigit(xml[i]!);
    if (digit < 0 || digit >= radix) return Number.NaN;
    value = value * radix + digit;
  }
  return value;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` as toISOString writes it, without making a string; anything else through Date's parser. */
function timeAt(xml: Buffer, start: number, end: number): number {
  if (end - start === 24 && xml[start + 10] === 0x54 && xml[start + 23] === 0x5a && xml[start + 19] === 0x2e) {
    const n = (from: number, length: number) => integerAt(xml, start + from, start + from + length, 10, length);
    const ms = Date.UTC(n(0, 4), n(5, 2) - 1, n(8, 2), n(11, 2), n(14, 2), n(17, 2), n(20, 3));
    if (!Number.isNaN(ms)) return ms;
  }
  // No date is written in more than a few dozen characters: a longer value is not parsed at all.
  return end - start > 64 ? Number.NaN : new Date(text(xml, start, end)).getTime();
}

/** 64 hex digits into the table's digest column; false if the value is anything else. */
function digestAt(xml: Buffer, start: number, end: number, table: EntryTable, index: number): boolean {
  if (end - start !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const high = hexDigit(xml[start + 2 * i]!);
    const low = hexDigit(xml[start + 2 * i + 1]!);
    if (high < 0 || low < 0) return false;
    digest[i] = (high << 4) | low;
  }
  table.digests.set(index, digest);
  return true;
}

/** One digest as it is decoded, before it goes into the table. */
const digest = new Uint8Array(32);

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Digits enough for any size a file system can hold, and few enough to stay exact as a double. */
const MAX_SIZE_DIGITS = 15;
/** File type and permission bits: what the zip's 16-bit mode field can carry. */
const MAX_MODE = 0o177777;

/**
 * Reads one `<Entry a="..." .../>` element written by the project's XML builder
 * into the next row of the table; the element's attributes start at `from` and
 * the next element at `limit`. Returns where the element ends. Every value is
 * checked: an entry the rest of restore would have to second-guess is refused.
 */
function readEntry(xml: Buffer, from: number, limit: number, table: EntryTable, source: string): number {
  const index = table.count;
  let name: string | undefined;
  let name64: string | undefined;
  let target: string | undefined;
  let target64: string | undefined;
  let kind: string | undefined;
  let method: string | undefined;
  let sha256: "none" | "valid" | "invalid" = "none";
  let seen = 0;
  let size = Number.NaN;
  let compressedSize = Number.NaN;
  table.crc32s[index] = 0;
  table.modes[index] = 0;
  table.setMtime(index, Number.NaN);
  table.hasSha256[index] = 0;
  const malformed = (at: number) => corrupt(source, `entry ${index + 1} is malformed near byte ${at} of its element`);
  const invalid = (what: string) => corrupt(source, `entry ${index + 1} (${shownName(name64 !== undefined ? decoded(name64) : (name ?? ""))}) ${what}`);
  let crc = Number.NaN;
  let mode = Number.NaN;
  let at = from;
  for (;;) {
    const gap = at;
    while (at < limit && isSpace(xml[at])) at++;
    if (at >= limit) throw malformed(at - from);
    if (xml[at] === SLASH) {
      if (xml[at + 1] !== GREATER_THAN) throw malformed(at - from);
      at += 2;
      break;
    }
    // Byte loops rather than indexOf: the distances are a few bytes, shorter than a native call costs.
    if (at === gap) throw malformed(at - from);
    let equals = at;
    while (equals < limit && xml[equals] !== EQUALS) equals++;
    if (equals >= limit || xml[equals + 1] !== QUOTE) throw malformed(at - from);
    const valueStart = equals + 2;
    let valueEnd = valueStart;
    while (valueEnd < limit && xml[valueEnd] !== QUOTE) valueEnd++;
    if (valueEnd >= limit) throw malformed(at - from);
    const keyIndex = keyAt(xml, at, equals);
    const key = keyIndex < 0 ? undefined : KEYS[keyIndex];
    if (keyIndex >= 0) {
      if (seen & (1 << keyIndex)) throw corrupt(source, `entry ${index + 1} has its ${key} attribute twice`);
      seen |= 1 << keyIndex;
    }
    switch (key) {
      case "name":
        name = text(xml, valueStart, valueEnd);
        break;
      case "name64":
        name64 = latin1(xml, valueStart, valueEnd);
        break;
      case "kind":
        kind = word(xml, valueStart, valueEnd);
        break;
      case "size":
        size = integerAt(xml, valueStart, valueEnd, 10, MAX_SIZE_DIGITS);
        break;
      case "compressedSize":
        compressedSize = integerAt(xml, valueStart, valueEnd, 10, MAX_SIZE_DIGITS);
        break;
      case "method":
        method = word(xml, valueStart, valueEnd);
        break;
      case "crc32":
        crc = integerAt(xml, valueStart, valueEnd, 16, 8);
        break;
      case "sha256":
        // Empty for an entry without content; otherwise 64 hex digits.
        sha256 = valueStart === valueEnd ? "none" : digestAt(xml, valueStart, valueEnd, table, index) ? "valid" : "invalid";
        break;
      case "mtime":
        table.setMtime(index, timeAt(xml, valueStart, valueEnd));
        break;
      case "mode":
        mode = integerAt(xml, valueStart, valueEnd, 8, 6);
        break;
      case "linkTarget":
        target = text(xml, valueStart, valueEnd);
        break;
      case "linkTarget64":
        target64 = latin1(xml, valueStart, valueEnd);
        break;
      default:
        if (!/^[A-Za-z_][\w.-]*$/.test(latin1(xml, at, Math.min(equals, at + 256)))) throw malformed(at - from);
    }
    at = valueEnd + 1;
  }

  if (name === undefined && name64 === undefined) throw invalid("has no name");
  const entryName = name64 !== undefined ? decoded(name64) : name!;
  const problem = nameProblem(entryName);
  if (problem) throw invalid(`has an unsafe name: ${problem}`);
  const kindCode = EntryTable.kindCode(kind);
  if (kindCode === 255) throw invalid(kind === undefined ? "has no kind" : `is of unknown kind ${JSON.stringify(shortened(kind))}`);
  if (method !== "deflate" && method !== "store") throw invalid(method === undefined ? "has no compression method" : `has unknown compression method ${JSON.stringify(shortened(method))}`);
  if (!Number.isSafeInteger(size)) throw invalid(`has no valid size (a whole number of bytes, at most ${MAX_SIZE_DIGITS} digits)`);
  if (!Number.isSafeInteger(compressedSize)) throw invalid(`has no valid compressed size (a whole number of bytes, at most ${MAX_SIZE_DIGITS} digits)`);
  if (Number.isNaN(crc)) throw invalid("has no valid CRC-32 (up to 8 hex digits)");
  if (!(mode <= MAX_MODE)) throw invalid("has no valid mode (octal, at most 177777)");
  if (!Number.isFinite(table.mtime(index))) throw invalid("has no valid modification time");
  if (sha256 === "invalid") throw invalid("has a SHA-256 that is not 64 hex digits");
  table.setWide("sizes", index, size);
  table.setWide("compressedSizes", index, compressedSize);
  table.crc32s[index] = crc;
  table.modes[index] = mode;
  table.hasSha256[index] = sha256 === "valid" ? 1 : 0;
  table.names.push(entryName);
  table.kinds[index] = kindCode;
  table.methods[index] = method === "deflate" ? 8 : 0;
  if (target64 !== undefined) table.linkTargets.set(index, decoded(target64));
  else if (target !== undefined) table.linkTargets.set(index, target);
  return at;
}

/** A `name64`/`linkTarget64` value: base64 of the UTF-8 text. */
const decoded = (base64: string) => Buffer.from(base64, "base64").toString();

const WORDS = ["file", "directory", "symlink", "deflate", "store"].map((word) => ({ word, bytes: Buffer.from(word) }));

/** The known kind and method values as shared constants; anything else decoded. */
function word(xml: Buffer, start: number, end: number): string {
  outer: for (const { word, bytes } of WORDS) {
    if (bytes.length !== end - start) continue;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== xml[start + i]) continue outer;
    return word;
  }
  return text(xml, start, Math.min(end, start + 256));
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
