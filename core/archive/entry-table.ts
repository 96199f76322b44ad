import { DigestColumn } from "./digest-column.js";
import { NameTable } from "./name-table.js";
import { TimeColumn } from "./time-column.js";
import type { ArchiveEntry } from "./types.js";

export type EntryKind = ArchiveEntry["kind"];
const KINDS: readonly EntryKind[] = ["file", "directory", "symlink"];

/**
 * Which source a table is read from: a manifest has digests and link targets
 * but no zip offsets or flags; a zip's central directory the reverse. Columns
 * a source never fills are left empty rather than held for every entry.
 */
export type EntrySource = "manifest" | "zip";

/**
 * A column of byte counts or offsets: 4 bytes a row while every value fits in
 * 32 bits (a home of small files), widened to 8 once for the whole column when
 * one value needs it (a file or zip past 4 GiB).
 */
export type WideColumn = Uint32Array | Float64Array;
type Column = Uint8Array | Uint16Array | Int16Array | Uint32Array | Float64Array;
const MAX_NARROW = 0xffffffff;

/** The columns a zip and its manifest both have, and hold the same values in for a backup's own zip. */
export type CommonColumn = "kinds" | "modes" | "sizes" | "compressedSizes" | "methods" | "crc32s";
const COMMON_COLUMNS: readonly CommonColumn[] = ["kinds", "modes", "sizes", "compressedSizes", "methods", "crc32s"];

/**
 * Many archive entries in columns rather than one object each: a backup of a
 * million files would otherwise hold millions of objects and strings for the
 * whole run. Used both for a manifest's entries and for a zip's central
 * directory. Names are kept as bytes (see NameTable); a zip read against a
 * manifest with the same names in the same order shares the manifest's.
 */
export class EntryTable {
  /** Entry names, row by row (decode one with `name`). */
  names: NameTable;
  // Columns are replaced by larger ones as rows arrive (see reserve): read them through the table, never keep one.
  kinds: Uint8Array;
  /** Unix modes, type bits included: 16 bits hold them all. */
  modes: Uint16Array;
  sizes: WideColumn;
  compressedSizes: WideColumn;
  /** Compression method number (0 store, 8 deflate; anything else as found). */
  methods: Uint16Array;
  crc32s: Uint32Array;
  /** Modification times in ms (manifests, to the ms a restore sets; zips only when asked for: restore never reads the zip's): see `mtime`. */
  private times: TimeColumn;
  /** Expected content digests, 32 bytes per entry (manifests; none for a zip), in a temp file past a few thousand rows. */
  readonly digests: DigestColumn;
  /** 1 where the entry's digest was given as 64 hex digits (manifests). */
  hasSha256: Uint8Array;
  /** Where each entry's local header starts (zips; empty for a manifest). */
  offsets: WideColumn;
  /** General-purpose flags (zips). */
  flags: Uint16Array;
  readonly linkTargets = new Map<number, string>();
  private rows: number;
  /** Whether the table keeps modification times (always for a manifest). */
  readonly hasTimes: boolean;
  /** The table whose columns this one reads until a row differs (see `shareColumns`), and which of them. */
  private sharedFrom?: EntryTable;
  private readonly shared = new Set<CommonColumn>();

  /**
   * `capacity` is where the columns start: a count an archive or manifest
   * declares is only a hint, so callers pass one the bytes at hand can hold
   * and `reserve` grows the columns as entries actually arrive.
   */
  constructor(
    capacity: number,
    readonly source: EntrySource = "manifest",
    options: { times?: boolean; sharing?: EntryTable } = {},
  ) {
    const own = (rows: number, column: "manifest" | "zip") => (column === source ? rows : 0);
    // Columns and names read from another table start empty: they are made only if a row differs.
    const common = options.sharing ? 0 : capacity;
    this.hasTimes = source === "manifest" || options.times === true;
    this.rows = capacity;
    this.names = new NameTable(common);
    this.kinds = new Uint8Array(common);
    this.modes = new Uint16Array(common);
    this.sizes = new Uint32Array(common);
    this.compressedSizes = new Uint32Array(common);
    this.methods = new Uint16Array(common);
    this.crc32s = new Uint32Array(common);
    this.times = TimeColumn.ofLength(this.hasTimes ? capacity : 0);
    this.digests = new DigestColumn({ memoryRows: source === "manifest" ? undefined : 0 });
    this.hasSha256 = new Uint8Array(own(capacity, "manifest"));
    this.offsets = new Uint32Array(own(capacity, "zip"));
    this.flags = new Uint16Array(own(capacity, "zip"));
    if (options.sharing) this.shareColumns(options.sharing);
  }

  /** Rows the columns hold now. */
  get capacity(): number {
    return this.rows;
  }

  /** Sets a byte count or offset (a whole number, 0 or more), widening its column first if the value needs 8 bytes. */
  setWide(column: "sizes" | "compressedSizes" | "offsets", index: number, value: number): void {
    let values = this[column];
    if (value > MAX_NARROW && values instanceof Uint32Array) {
      values = Float64Array.from(values);
      this[column] = values;
    }
    values[index] = value;
  }

  /**
   * Reads the common columns from `other` (row for row) instead of holding
   * its own: while filling rows with `setCommon`, a value equal to `other`'s
   * in the same row is not stored at all, and the first one that differs
   * gives this table its own copy of that column (the rows so far copied).
   * A backup's zip and manifest agree row for row, so a large tree's sizes,
   * kinds, modes and checksums are held once.
   */
  shareColumns(other: EntryTable): void {
    this.sharedFrom = other;
    for (const column of COMMON_COLUMNS) {
      (this as Record<CommonColumn, Column>)[column] = other[column];
      this.shared.add(column);
    }
  }

  /** Sets a common column's value in row `index` (see `shareColumns`). */
  setCommon(column: CommonColumn, index: number, value: number): void {
    if (this.shared.has(column)) {
      const from = this.sharedFrom!;
      if (index < from.count && from[column][index] === value) return;
      this.ownColumn(column, index);
    }
    if (column === "sizes" || column === "compressedSizes") this.setWide(column, index, value);
    else this[column][index] = value;
  }

  /** Columns still read from the table shared with (for tests and accounting). */
  get sharedColumns(): CommonColumn[] {
    return [...this.shared];
  }

  /** This table's own copy of a shared column, holding the other's first `rows` values. */
  private ownColumn(column: CommonColumn, rows: number): void {
    const theirs = this[column] as Column;
    const own = new (theirs.constructor as new (length: number) => Column)(this.rows);
    own.set(theirs.subarray(0, rows));
    (this as Record<CommonColumn, Column>)[column] = own;
    this.shared.delete(column);
  }

  /**
   * Gives back the room grown past the last row (up to half the columns after
   * a doubling): done once a table is complete, before the next is read.
   */
  trim(): void {
    const rows = this.count;
    // A table sharing columns was made for its rows (a zip's directory says how many): nothing to give back.
    if (this.shared.size) return;
    // Copying costs the columns twice over for a moment: only worth it for much room.
    if (this.rows - rows < Math.max(1024, rows / 4)) return;
    this.replaceColumns(<T extends Column>(column: T): T => (column.length > rows ? (column.slice(0, rows) as T) : column));
    this.names.trim();
    this.rows = rows;
  }

  /** Each column this table holds (a source's own, times if kept; digests aside), replaced by `change`'s result. */
  private replaceColumns(change: <T extends Column>(column: T) => T): void {
    this.kinds = change(this.kinds);
    this.modes = change(this.modes);
    this.sizes = change(this.sizes);
    this.compressedSizes = change(this.compressedSizes);
    this.methods = change(this.methods);
    this.crc32s = change(this.crc32s);
    if (this.hasTimes) this.times = this.times.changed(change);
    if (this.source === "manifest") this.hasSha256 = change(this.hasSha256);
    else {
      this.offsets = change(this.offsets);
      this.flags = change(this.flags);
    }
  }

  /** Makes room for row `index`, doubling the columns when it is past them. */
  reserve(index: number): void {
    if (index < this.rows) return;
    for (const column of [...this.shared]) this.ownColumn(column, Math.min(this.count, this.sharedFrom!.count));
    const rows = Math.max(index + 1, this.rows * 2, 64);
    this.replaceColumns(<T extends Column>(column: T): T => {
      // The same type as the column: a widened one stays wide.
      const larger = new (column.constructor as new (length: number) => T)(rows);
      larger.set(column);
      return larger;
    });
    this.rows = rows;
  }

  get count(): number {
    return this.names.count;
  }

  /** An entry's name as a string, made now (for messages and paths in use; never keep one per entry). */
  name(index: number): string {
    return this.names.get(index);
  }

  /** An entry's modification time in ms (NaN when none was given; NaN for a table that keeps no times). */
  mtime(index: number): number {
    return this.hasTimes ? this.times.get(index) : Number.NaN;
  }

  setMtime(index: number, ms: number): void {
    this.times.set(index, ms);
  }

  /** Rows of modification times held (none for a zip read without them). */
  get mtimeRows(): number {
    return this.times.length;
  }

  kind(index: number): EntryKind {
    return KINDS[this.kinds[index]!]!;
  }

  static kindCode(kind: string | undefined): number {
    const code = KINDS.indexOf(kind as EntryKind);
    return code < 0 ? 255 : code;
  }

  /** Hex digest of an entry, as written in the manifest ("" when it had none). */
  sha256Hex(index: number): string {
    return this.hasSha256[index] ? this.digests.hex(index) : "";
  }

  /** Lets go of what the table keeps outside memory (its digests' temp file); safe to call more than once. */
  close(): void {
    this.digests.close();
  }

  /** One entry as the manifest types describe it (for messages and the public API). */
  entry(index: number): ArchiveEntry {
    const method = this.methods[index];
    const entry: ArchiveEntry = {
      name: this.name(index),
      kind: this.kind(index),
      size: this.sizes[index]!,
      compressedSize: this.compressedSizes[index]!,
      method: method === 8 ? "deflate" : "store",
      crc32: this.crc32s[index]!,
      sha256: this.sha256Hex(index),
      mtime: new Date(this.mtime(index)),
      mode: this.modes[index]!,
    };
    const target = this.linkTargets.get(index);
    if (target !== undefined) entry.linkTarget = target;
    return entry;
  }

  /** Every entry as objects; for callers that want the plain manifest shape (small lists: restore and verify never do this). */
  toEntries(): ArchiveEntry[] {
    return Array.from({ length: this.count }, (_, index) => this.entry(index));
  }
}
