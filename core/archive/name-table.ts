import { isUtf8 } from "node:buffer";

/**
 * Rows per block: a block's first name is stored whole, so reading any row
 * decodes at most this many records. Neighbouring entries share their folder's
 * path, so the others cost only what differs from the name before them.
 */
const BLOCK_ROWS = 16;
const BLOCK_SHIFT = 4;

/** Where a name was last decoded: reading the next row of the same block goes on from there. */
class Cursor {
  row = -1;
  /** Where the record after `row` starts in the table's bytes. */
  next = 0;
  length = 0;
  bytes = Buffer.allocUnsafe(256);

  /** Room for `length` bytes, keeping the first `keep` (the prefix the next name shares). */
  reserve(length: number, keep: number): void {
    if (length <= this.bytes.length) return;
    const larger = Buffer.allocUnsafe(Math.max(length, this.bytes.length * 2));
    this.bytes.copy(larger, 0, 0, keep);
    this.bytes = larger;
  }
}

/**
 * Entry names as UTF-8 bytes, front-coded: each row holds how many leading
 * bytes it shares with the row before it and the bytes that follow, and every
 * 16th row is whole. A JS string per name costs several times its bytes and
 * stays for the whole run, and even plain bytes repeat each file's folder
 * path: a million files' names take about 40 MB as bytes, under half that
 * front-coded. A name is decoded only when used; comparisons and lookups
 * work on the bytes.
 *
 * Names come from bytes (a manifest, a zip), so they hold no lone surrogates
 * and decode to exactly the string that was stored.
 */
export class NameTable {
  /** Records: varint shared length, varint suffix length, suffix bytes. */
  private data: Buffer;
  private used = 0;
  /** Where each block's first record starts. */
  private blockStarts: Uint32Array;
  private rows = 0;
  /** The last name added, whole: the next one is coded against it. */
  private last = Buffer.allocUnsafe(256);
  private lastLength = 0;
  /** Encoding room for `push`. */
  private incoming = Buffer.allocUnsafe(256);
  /**
   * Three places a name is decoded into, so that a name being worked on is
   * not overwritten by the one it is compared with: `bytes` (handed out),
   * `other` (compared against), `probe` (length, last byte, prefix, string).
   */
  private readonly handed = new Cursor();
  private readonly other = new Cursor();
  private readonly probe = new Cursor();

  constructor(capacity = 0) {
    this.blockStarts = new Uint32Array(Math.max((capacity >> BLOCK_SHIFT) + 1, 16));
    this.data = Buffer.allocUnsafe(Math.max(capacity * 24, 1024));
  }

  get count(): number {
    return this.rows;
  }

  /** Bytes the coded names take (for the table's own accounting and tests). */
  get byteLength(): number {
    return this.used;
  }

  /** A name's length in bytes. */
  length(row: number): number {
    this.checkRow(row);
    let at = this.blockStarts[row >> BLOCK_SHIFT]!;
    const data = this.data;
    for (let r = row & ~(BLOCK_ROWS - 1); ; r++) {
      let shared = data[at++]!;
      if (shared >= 0x80) [shared, at] = readLongVarint(data, at - 1);
      let suffix = data[at++]!;
      if (suffix >= 0x80) [suffix, at] = readLongVarint(data, at - 1);
      if (r === row) return shared + suffix;
      at += suffix;
    }
  }

  /**
   * A name's bytes: a view that stays valid until the next `bytes` call on
   * this table (copy it to keep it).
   */
  bytes(row: number): Buffer {
    const cursor = this.decode(row, this.handed);
    return cursor.bytes.subarray(0, cursor.length);
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
    const blocks = (this.rows + BLOCK_ROWS - 1) >> BLOCK_SHIFT;
    // Copying costs the names twice over for a moment: only worth it for much room.
    if (this.blockStarts.length > Math.max(blocks * 1.25, blocks + 1024)) this.blockStarts = this.blockStarts.slice(0, Math.max(blocks, 16));
    if (this.data.length > Math.max(this.used * 1.25, this.used + 64 * 1024)) this.data = Buffer.from(this.data.subarray(0, this.used));
  }

  /** The name of a row as a string (made now, not kept). */
  get(row: number): string {
    const cursor = this.decode(row, this.probe);
    return cursor.bytes.toString("utf8", 0, cursor.length);
  }

  push(name: string): number {
    // UTF-16 units take at most 3 bytes each in UTF-8.
    if (this.incoming.length < name.length * 3) this.incoming = Buffer.allocUnsafe(name.length * 3);
    const written = this.incoming.write(name, 0, "utf8");
    return this.add(this.incoming, 0, written);
  }

  /**
   * Adds a name given as bytes: as they are when they are valid UTF-8 (or
   * plain ASCII in `latin1`), otherwise as the text they decode to.
   */
  pushBytes(source: Buffer, start: number, end: number, encoding: "utf8" | "latin1" = "utf8"): number {
    const raw = source.subarray(start, end);
    if (encoding === "utf8" ? !isUtf8(raw) : !isAscii(source, start, end)) return this.push(raw.toString(encoding));
    return this.add(source, start, end);
  }

  /** Appends the first `count` names of another table (a table that shared them until now takes its own copy). */
  pushFrom(other: NameTable, count: number): void {
    for (let row = 0; row < count; row++) {
      const cursor = other.decode(row, other.handed);
      this.add(cursor.bytes, 0, cursor.length);
    }
  }

  /** True when row `row` holds the same bytes as `source[start, end)`. */
  equalsBytes(row: number, source: Buffer, start: number, end: number): boolean {
    const cursor = this.decode(row, this.other);
    return cursor.length === end - start && cursor.bytes.compare(source, start, end, 0, cursor.length) === 0;
  }

  /**
   * True when row `row`, less a trailing `/` when `withoutSlash` and it has
   * one, holds the same bytes as `source[start, end)`.
   */
  keyEquals(row: number, source: Buffer, start: number, end: number, withoutSlash: boolean): boolean {
    const cursor = this.decode(row, this.other);
    let length = cursor.length;
    if (withoutSlash && length > 0 && cursor.bytes[length - 1] === SLASH) length--;
    return length === end - start && cursor.bytes.compare(source, start, end, 0, length) === 0;
  }

  /** True when row `row` here and row `otherRow` of `other` are the same name. */
  equals(row: number, other: NameTable, otherRow: number): boolean {
    const mine = this.decode(row, this.handed);
    return other.equalsBytes(otherRow, mine.bytes, 0, mine.length);
  }

  /** Byte order of two rows (UTF-8 byte order is code point order). */
  compare(a: number, b: number): number {
    const first = this.decode(a, this.handed);
    const second = this.decode(b, this.other);
    return first.bytes.compare(second.bytes, 0, second.length, 0, first.length);
  }

  /** True when a name starts with `prefix`, an ASCII string (such as `fs/`): compared without encoding it. */
  startsWith(row: number, prefix: string): boolean {
    const cursor = this.decode(row, this.probe);
    if (cursor.length < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (cursor.bytes[i] !== prefix.charCodeAt(i)) return false;
    return true;
  }

  /** The last byte of a name (-1 for an empty one): `/` ends a folder's. */
  lastByte(row: number): number {
    const cursor = this.decode(row, this.probe);
    return cursor.length > 0 ? cursor.bytes[cursor.length - 1]! : -1;
  }

  /** FNV-1a of `source[start, end)`, the hash NameIndex files names under. */
  static hash(source: Buffer, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ source[i]!, 0x01000193);
    return hash >>> 0;
  }

  private add(source: Buffer, start: number, end: number): number {
    const length = end - start;
    const block = this.rows >> BLOCK_SHIFT;
    let shared = 0;
    if ((this.rows & (BLOCK_ROWS - 1)) === 0) {
      if (block === this.blockStarts.length) {
        const starts = new Uint32Array(this.blockStarts.length * 2);
        starts.set(this.blockStarts);
        this.blockStarts = starts;
      }
      this.blockStarts[block] = this.used;
    } else {
      const limit = Math.min(length, this.lastLength);
      const last = this.last;
      while (shared < limit && last[shared] === source[start + shared]) shared++;
    }
    const suffix = length - shared;
    // Two varints of at most 5 bytes each.
    this.reserveBytes(suffix + 10);
    this.used = writeVarint(this.data, this.used, shared);
    this.used = writeVarint(this.data, this.used, suffix);
    copyBytes(source, start + shared, this.data, this.used, suffix);
    this.used += suffix;
    if (this.last.length < length) {
      const larger = Buffer.allocUnsafe(Math.max(length, this.last.length * 2));
      this.last.copy(larger, 0, 0, shared);
      this.last = larger;
    }
    copyBytes(source, start + shared, this.last, shared, suffix);
    this.lastLength = length;
    return this.rows++;
  }

  /** Decodes `row` into `cursor`, going on from the row it holds when that is earlier in the same block. */
  private decode(row: number, cursor: Cursor): Cursor {
    if (cursor.row === row) return cursor;
    this.checkRow(row);
    let r: number;
    let at: number;
    if (cursor.row >= 0 && cursor.row < row && cursor.row >> BLOCK_SHIFT === row >> BLOCK_SHIFT) {
      r = cursor.row + 1;
      at = cursor.next;
    } else {
      r = row & ~(BLOCK_ROWS - 1);
      at = this.blockStarts[row >> BLOCK_SHIFT]!;
    }
    const data = this.data;
    let length = cursor.length;
    for (; r <= row; r++) {
      let shared = data[at++]!;
      if (shared >= 0x80) [shared, at] = readLongVarint(data, at - 1);
      let suffix = data[at++]!;
      if (suffix >= 0x80) [suffix, at] = readLongVarint(data, at - 1);
      length = shared + suffix;
      cursor.reserve(length, shared);
      copyBytes(data, at, cursor.bytes, shared, suffix);
      at += suffix;
    }
    cursor.row = row;
    cursor.next = at;
    cursor.length = length;
    return cursor;
  }

  private checkRow(row: number): void {
    if (!(row >= 0 && row < this.rows)) throw new RangeError(`no name at row ${row} of ${this.rows}`);
  }

  private reserveBytes(bytes: number): void {
    if (this.used + bytes <= this.data.length) return;
    const size = Math.max(this.used + bytes, Math.ceil(this.data.length * 1.5));
    if (size > 0xffffffff) throw new RangeError("the entry names take more than 4 GiB");
    const larger = Buffer.allocUnsafe(size);
    this.data.copy(larger, 0, 0, this.used);
    this.data = larger;
  }
}

/** Short runs (most suffixes) are copied byte by byte: cheaper than a native call each. */
function copyBytes(source: Buffer, from: number, target: Buffer, to: number, length: number): void {
  if (length > 32) source.copy(target, to, from, from + length);
  else for (let i = 0; i < length; i++) target[to + i] = source[from + i]!;
}

/** LEB128: 7 bits a byte, low bits first. */
function writeVarint(target: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[at++] = value;
  return at;
}

/** A varint of more than one byte, from `at`: its value and where the next field starts. */
function readLongVarint(source: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = source[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 0x80;
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
 *
 * A slot holds 7 bits of its key's hash above the row (rows below 2^24; the
 * sign bit stays clear, -1 is an empty slot): a
 * name is decoded to be compared only when those bits agree, so colliding
 * keys seldom cost a decode.
 */
export class NameIndex {
  private slots: Int32Array;
  private mask: number;
  private filed = 0;
  /** Whether slots carry hash bits (until a row too large for them is filed). */
  private tagged = true;

  private readonly rowMask: number;
  /** 2^rowBits: where a slot's hash bits start. */
  private readonly tagScale: number;

  /**
   * `rows` is how many rows are expected (sizes the slots; they grow past it).
   * Rows below 2^`rowBits` (at most 24) carry hash bits.
   */
  constructor(
    private readonly names: NameTable,
    rows = 0,
    private readonly folderKeys = false,
    private readonly rowBits = 24,
  ) {
    if (!(rowBits >= 0 && rowBits <= 24)) throw new RangeError(`rowBits is ${rowBits}, not 0 to 24`);
    this.tagScale = 2 ** rowBits;
    this.rowMask = this.tagScale - 1;
    let size = 16;
    while (size < rows * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** A row's key in bytes: its name's, less a folder's trailing `/` with `folderKeys`. */
  keyLength(row: number): number {
    const length = this.names.length(row);
    return this.folderKeys && this.names.lastByte(row) === SLASH ? length - 1 : length;
  }

  /** The row filed under `source[start, end)`, or -1. */
  find(source: Buffer, start: number, end: number): number {
    const hash = NameTable.hash(source, start, end);
    const tag = this.tagged ? tagOf(hash) : -1;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const value = this.slots[slot]!;
      if (value < 0) return -1;
      if (tag >= 0 && value >>> this.rowBits !== tag) continue;
      const row = tag >= 0 ? value & this.rowMask : value;
      if (this.names.keyEquals(row, source, start, end, this.folderKeys)) return row;
    }
  }

  /** The row filed under `key`, or -1. */
  findKey(key: string): number {
    const bytes = Buffer.from(key);
    return this.find(bytes, 0, bytes.length);
  }

  /** Files `row` under its key; returns the row already filed under that key (nothing is added then), or -1. */
  add(row: number): number {
    if (this.tagged && row > this.rowMask) this.untag();
    if (this.filed * 2 >= this.slots.length) this.grow();
    const key = this.names.bytes(row);
    const end = this.keyEndOf(key);
    const hash = NameTable.hash(key, 0, end);
    const tag = this.tagged ? tagOf(hash) : -1;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const value = this.slots[slot]!;
      if (value < 0) {
        this.slots[slot] = tag >= 0 ? tag * this.tagScale + row : row;
        this.filed++;
        return -1;
      }
      if (tag >= 0 && value >>> this.rowBits !== tag) continue;
      const found = tag >= 0 ? value & this.rowMask : value;
      if (this.names.keyEquals(found, key, 0, end, this.folderKeys)) return found;
    }
  }

  private keyEndOf(key: Buffer): number {
    return this.folderKeys && key.length > 0 && key[key.length - 1] === SLASH ? key.length - 1 : key.length;
  }

  /** Twice the slots, every filed row filed again. */
  private grow(): void {
    this.refile(this.slots.length * 2, this.tagged);
  }

  /** Slots without hash bits: a row past 2^24 is filed. */
  private untag(): void {
    this.refile(this.slots.length, false);
  }

  /**
   * Files every filed row again into `size` slots (keys are distinct, so no
   * comparing), in row order: names decode fastest one after another.
   */
  private refile(size: number, tagged: boolean): void {
    const rows = this.slots.filter((value) => value >= 0);
    if (this.tagged) for (let i = 0; i < rows.length; i++) rows[i] = rows[i]! & this.rowMask;
    rows.sort();
    this.tagged = tagged;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (const row of rows) {
      const key = this.names.bytes(row);
      const hash = NameTable.hash(key, 0, this.keyEndOf(key));
      let slot = hash & this.mask;
      while (this.slots[slot]! >= 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = tagged ? tagOf(hash) * this.tagScale + row : row;
    }
  }
}

/** The hash's top 7 bits: the slot is chosen by its low bits, so these still tell apart keys that land together. */
function tagOf(hash: number): number {
  return hash >>> 25;
}

const SLASH = 0x2f;
