import { NameTable } from "./name-table.js";
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
  modes: Uint32Array;
  sizes: Float64Array;
  compressedSizes: Float64Array;
  /** Compression method number (0 store, 8 deflate; anything else as found). */
  methods: Uint16Array;
  crc32s: Uint32Array;
  mtimes: Float64Array;
  /** Expected content digests, 32 bytes per entry (manifests; empty for a zip). */
  sha256: Buffer;
  /** 1 where the entry's digest was given as 64 hex digits (manifests). */
  hasSha256: Uint8Array;
  /** Where each entry's local header starts (zips; empty for a manifest). */
  offsets: Float64Array;
  /** General-purpose flags (zips). */
  flags: Uint16Array;
  readonly linkTargets = new Map<number, string>();
  private rows: number;

  /**
   * `capacity` is where the columns start: a count an archive or manifest
   * declares is only a hint, so callers pass one the bytes at hand can hold
   * and `reserve` grows the columns as entries actually arrive.
   */
  constructor(
    capacity: number,
    readonly source: EntrySource = "manifest",
  ) {
    const own = (rows: number, column: "manifest" | "zip") => (column === source ? rows : 0);
    this.rows = capacity;
    this.names = new NameTable(capacity);
    this.kinds = new Uint8Array(capacity);
    this.modes = new Uint32Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.compressedSizes = new Float64Array(capacity);
    this.methods = new Uint16Array(capacity);
    this.crc32s = new Uint32Array(capacity);
    this.mtimes = new Float64Array(capacity);
    this.sha256 = Buffer.alloc(own(capacity, "manifest") * 32);
    this.hasSha256 = new Uint8Array(own(capacity, "manifest"));
    this.offsets = new Float64Array(own(capacity, "zip"));
    this.flags = new Uint16Array(own(capacity, "zip"));
  }

  /** Rows the columns hold now. */
  get capacity(): number {
    return this.rows;
  }

  /**
   * Gives back the room grown past the last row (up to half the columns after
   * a doubling): done once a table is complete, before the next is read.
   */
  trim(): void {
    const rows = this.count;
    // Copying costs the columns twice over for a moment: only worth it for much room.
    if (this.rows - rows < Math.max(1024, rows / 4)) return;
    const cut = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(column: T): T => (column.length > rows ? (column.slice(0, rows) as T) : column);
    this.kinds = cut(this.kinds);
    this.modes = cut(this.modes);
    this.sizes = cut(this.sizes);
    this.compressedSizes = cut(this.compressedSizes);
    this.methods = cut(this.methods);
    this.crc32s = cut(this.crc32s);
    this.mtimes = cut(this.mtimes);
    this.hasSha256 = cut(this.hasSha256);
    this.offsets = cut(this.offsets);
    this.flags = cut(this.flags);
    if (this.sha256.length > rows * 32) this.sha256 = Buffer.from(this.sha256.subarray(0, rows * 32));
    this.names.trim();
    this.rows = rows;
  }

  /** Makes room for row `index`, doubling the columns when it is past them. */
  reserve(index: number): void {
    if (index < this.rows) return;
    const rows = Math.max(index + 1, this.rows * 2, 64);
    const grown = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(column: T, make: new (length: number) => T): T => {
      const larger = new make(rows);
      larger.set(column);
      return larger;
    };
    const own = (column: "manifest" | "zip") => (column === this.source ? rows : 0);
    this.kinds = grown(this.kinds, Uint8Array);
    this.modes = grown(this.modes, Uint32Array);
    this.sizes = grown(this.sizes, Float64Array);
    this.compressedSizes = grown(this.compressedSizes, Float64Array);
    this.methods = grown(this.methods, Uint16Array);
    this.crc32s = grown(this.crc32s, Uint32Array);
    this.mtimes = grown(this.mtimes, Float64Array);
    if (own("manifest")) {
      const sha256 = Buffer.alloc(rows * 32);
      this.sha256.copy(sha256);
      this.sha256 = sha256;
      this.hasSha256 = grown(this.hasSha256, Uint8Array);
    } else {
      this.offsets = grown(this.offsets, Float64Array);
      this.flags = grown(this.flags, Uint16Array);
    }
    this.rows = rows;
  }

  get count(): number {
    return this.names.count;
  }

  /** An entry's name as a string, made now (for messages and paths in use; never keep one per entry). */
  name(index: number): string {
    return this.names.get(index);
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
    return this.hasSha256[index] ? this.sha256.toString("hex", index * 32, index * 32 + 32) : "";
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
      mtime: new Date(this.mtimes[index]!),
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
