import { isUtf8 } from "node:buffer";

/**
 * Entry names as UTF-8 bytes in one growing buffer, row by row: a JS string per
 * name costs several times its bytes and stays for the whole run, while a
 * restore of a million files only needs a name when it is used. A name is
 * decoded (`get`) only then; comparisons and lookups work on the bytes.
 *
 * Names come from bytes (a manifest, a zip), so they hold no lone surrogates
 * and decode to exactly the string that was stored.
 */
export class NameTable {
  private bytes: Buffer;
  private used = 0;
  /** Row i's bytes are [ends[i-1], ends[i]) (row 0 starts at 0). */
  private ends: Uint32Array;
  private rows = 0;

  constructor(capacity = 0) {
    this.ends = new Uint32Array(Math.max(capacity, 16));
    this.bytes = Buffer.allocUnsafe(Math.max(capacity * 48, 1024));
  }

  get count(): number {
    return this.rows;
  }

  /** Bytes all names take (for the table's own accounting and tests). */
  get byteLength(): number {
    return this.used;
  }

  start(row: number): number {
    return row === 0 ? 0 : this.ends[row - 1]!;
  }

  end(row: number): number {
    return this.ends[row]!;
  }

  length(row: number): number {
    return this.end(row) - this.start(row);
  }

  /** The first row named `name`, or -1 (a scan: for the few names looked up once, such as `meta`). */
  indexOf(name: string): number {
    const bytes = Buffer.from(name);
    for (let row = 0; row < this.rows; row++) if (this.equalsBytes(row, bytes, 0, bytes.length)) return row;
    return -1;
  }

  /** Every name as a string, in row order (for small tables and tests). */
  *[Symbol.iterator](): IterableIterator<string> {
    for (let row = 0; row < this.rows; row++) yield this.get(row);
  }

  /** Gives back the room grown past the last name. */
  trim(): void {
    // Copying costs the names twice over for a moment: only worth it for much room.
    if (this.ends.length > Math.max(this.rows * 1.25, this.rows + 1024)) this.ends = this.ends.slice(0, Math.max(this.rows, 16));
    if (this.bytes.length > Math.max(this.used * 1.25, this.used + 64 * 1024)) this.bytes = Buffer.from(this.bytes.subarray(0, this.used));
  }

  /** The name of a row as a string (made now, not kept). */
  get(row: number): string {
    if (row < 0 || row >= this.rows) throw new RangeError(`no name at row ${row} of ${this.rows}`);
    return this.bytes.toString("utf8", this.start(row), this.ends[row]!);
  }

  /** The buffer holding every name, for byte-wise work with `start`/`end`; replaced as names are added, so never kept. */
  get buffer(): Buffer {
    return this.bytes;
  }

  push(name: string): number {
    // UTF-16 units take at most 3 bytes each in UTF-8.
    this.reserveBytes(name.length * 3);
    const written = this.bytes.write(name, this.used, "utf8");
    return this.close(written);
  }

  /**
   * Adds a name given as bytes: as they are when they are valid UTF-8 (or
   * plain ASCII in `latin1`), otherwise as the text they decode to.
   */
  pushBytes(source: Buffer, start: number, end: number, encoding: "utf8" | "latin1" = "utf8"): number {
    const raw = source.subarray(start, end);
    if (encoding === "utf8" ? !isUtf8(raw) : !isAscii(source, start, end)) return this.push(raw.toString(encoding));
    this.reserveBytes(raw.length);
    raw.copy(this.bytes, this.used);
    return this.close(raw.length);
  }

  /** Appends the first `count` names of another table (a table that shared them until now takes its own copy). */
  pushFrom(other: NameTable, count: number): void {
    for (let row = 0; row < count; row++) {
      const start = other.start(row);
      const end = other.end(row);
      this.reserveBytes(end - start);
      other.bytes.copy(this.bytes, this.used, start, end);
      this.close(end - start);
    }
  }

  /** True when row `row` holds the same bytes as `source[start, end)`. */
  equalsBytes(row: number, source: Buffer, start: number, end: number): boolean {
    const from = this.start(row);
    const to = this.ends[row]!;
    return to - from === end - start && this.bytes.compare(source, start, end, from, to) === 0;
  }

  /** True when row `row` here and row `otherRow` of `other` are the same name. */
  equals(row: number, other: NameTable, otherRow: number): boolean {
    return other.equalsBytes(otherRow, this.bytes, this.start(row), this.ends[row]!);
  }

  /** Byte order of two rows (UTF-8 byte order is code point order). */
  compare(a: number, b: number): number {
    return this.bytes.compare(this.bytes, this.start(b), this.ends[b]!, this.start(a), this.ends[a]!);
  }

  /** True when a name starts with `prefix`, an ASCII string (such as `fs/`): compared without encoding it. */
  startsWith(row: number, prefix: string): boolean {
    const from = this.start(row);
    if (this.ends[row]! - from < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (this.bytes[from + i] !== prefix.charCodeAt(i)) return false;
    return true;
  }

  /** The last byte of a name (-1 for an empty one): `/` ends a folder's. */
  lastByte(row: number): number {
    const end = this.ends[row]!;
    return end > this.start(row) ? this.bytes[end - 1]! : -1;
  }

  /** FNV-1a of `source[start, end)`, the hash NameIndex files names under. */
  static hash(source: Buffer, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ source[i]!, 0x01000193);
    return hash >>> 0;
  }

  private reserveBytes(bytes: number): void {
    if (this.rows === this.ends.length) {
      const ends = new Uint32Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    if (this.used + bytes <= this.bytes.length) return;
    const size = Math.max(this.used + bytes, Math.ceil(this.bytes.length * 1.5));
    if (size > 0xffffffff) throw new RangeError("the entry names take more than 4 GiB");
    const larger = Buffer.allocUnsafe(size);
    this.bytes.copy(larger, 0, 0, this.used);
    this.bytes = larger;
  }

  private close(written: number): number {
    this.used += written;
    this.ends[this.rows] = this.used;
    return this.rows++;
  }
}

/** True when `bytes[start, end)` is plain ASCII (the same text read as Latin-1 or as UTF-8). */
export function isAscii(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/**
 * Rows of a NameTable by name, in an open-addressing hash of row numbers
 * (4 bytes a slot, two slots a row): a Map from names would hold a string per
 * entry. Names are compared by their bytes. With `folderKeys`, a folder's row
 * is filed under its name without the trailing `/` (a path), so a file and a
 * folder of the same path meet.
 */
export class NameIndex {
  private slots: Int32Array;
  private mask: number;
  private filed = 0;

  /** `rows` is how many rows are expected (sizes the slots; they grow past it). */
  constructor(
    private readonly names: NameTable,
    rows = 0,
    private readonly folderKeys = false,
  ) {
    let size = 16;
    while (size < rows * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** Where a row's key ends in the table's buffer. */
  keyEnd(row: number): number {
    const end = this.names.end(row);
    return this.folderKeys && this.names.lastByte(row) === SLASH ? end - 1 : end;
  }

  /** The row filed under `source[start, end)`, or -1. */
  find(source: Buffer, start: number, end: number): number {
    for (let slot = NameTable.hash(source, start, end) & this.mask; ; slot = (slot + 1) & this.mask) {
      const row = this.slots[slot]!;
      if (row < 0 || this.keyEquals(row, source, start, end)) return row;
    }
  }

  /** The row filed under `key`, or -1. */
  findKey(key: string): number {
    const bytes = Buffer.from(key);
    return this.find(bytes, 0, bytes.length);
  }

  /** Files `row` under its key; returns the row already filed under that key (nothing is added then), or -1. */
  add(row: number): number {
    if (this.filed * 2 >= this.slots.length) this.grow();
    const bytes = this.names.buffer;
    const start = this.names.start(row);
    const end = this.keyEnd(row);
    for (let slot = NameTable.hash(bytes, start, end) & this.mask; ; slot = (slot + 1) & this.mask) {
      const found = this.slots[slot]!;
      if (found < 0) {
        this.slots[slot] = row;
        this.filed++;
        return -1;
      }
      if (this.keyEquals(found, bytes, start, end)) return found;
    }
  }

  /** Twice the slots, every filed row filed again (keys are distinct, so no comparing). */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(-1);
    this.mask = this.slots.length - 1;
    const bytes = this.names.buffer;
    for (const row of old) {
      if (row < 0) continue;
      let slot = NameTable.hash(bytes, this.names.start(row), this.keyEnd(row)) & this.mask;
      while (this.slots[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = row;
    }
  }

  private keyEquals(row: number, source: Buffer, start: number, end: number): boolean {
    const from = this.names.start(row);
    const to = this.keyEnd(row);
    return to - from === end - start && this.names.buffer.compare(source, start, end, from, to) === 0;
  }
}

const SLASH = 0x2f;
