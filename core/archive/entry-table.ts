import type { ArchiveEntry } from "./types.js";

export type EntryKind = ArchiveEntry["kind"];
const KINDS: readonly EntryKind[] = ["file", "directory", "symlink"];

/**
 * Many archive entries in columns rather than one object each: a backup of
 * tens of thousands of files would otherwise fill the heap with short-lived
 * objects the garbage collector copies around, on the path every restore
 * waits for. Used both for a manifest's entries and for a zip's central
 * directory; columns a source does not have stay at zero.
 */
export class EntryTable {
  readonly names: string[] = [];
  // Columns are replaced by larger ones as rows arrive (see reserve): read them through the table, never keep one.
  kinds: Uint8Array;
  modes: Uint32Array;
  sizes: Float64Array;
  compressedSizes: Float64Array;
  /** Compression method number (0 store, 8 deflate; anything else as found). */
  methods: Uint16Array;
  crc32s: Uint32Array;
  mtimes: Float64Array;
  /** Expected content digests, 32 bytes per entry (manifests). */
  sha256: Buffer;
  /** 1 where the entry's digest was given as 64 hex digits. */
  hasSha256: Uint8Array;
  /** Where each entry's local header starts (zips). */
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
  constructor(capacity: number) {
    this.rows = capacity;
    this.kinds = new Uint8Array(capacity);
    this.modes = new Uint32Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.compressedSizes = new Float64Array(capacity);
    this.methods = new Uint16Array(capacity);
    this.crc32s = new Uint32Array(capacity);
    this.mtimes = new Float64Array(capacity);
    this.sha256 = Buffer.alloc(capacity * 32);
    this.hasSha256 = new Uint8Array(capacity);
    this.offsets = new Float64Array(capacity);
    this.flags = new Uint16Array(capacity);
  }

  /** Rows the columns hold now. */
  get capacity(): number {
    return this.rows;
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
    this.kinds = grown(this.kinds, Uint8Array);
    this.modes = grown(this.modes, Uint32Array);
    this.sizes = grown(this.sizes, Float64Array);
    this.compressedSizes = grown(this.compressedSizes, Float64Array);
    this.methods = grown(this.methods, Uint16Array);
    this.crc32s = grown(this.crc32s, Uint32Array);
    this.mtimes = grown(this.mtimes, Float64Array);
    const sha256 = Buffer.alloc(rows * 32);
    this.sha256.copy(sha256);
    this.sha256 = sha256;
    this.hasSha256 = grown(this.hasSha256, Uint8Array);
    this.offsets = grown(this.offsets, Float64Array);
    this.flags = grown(this.flags, Uint16Array);
    this.rows = rows;
  }

  get count(): number {
    return this.names.length;
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
      name: this.names[index]!,
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

  /** Every entry as objects; for callers that want the plain manifest shape. */
  toEntries(): ArchiveEntry[] {
    return this.names.map((_, index) => this.entry(index));
  }
}
