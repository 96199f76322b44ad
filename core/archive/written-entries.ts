import { RecordReader, textSize, writeNumber, writeText, writeWord } from "../spool/record-fields.js";
import { RecordSpool, type RecordSpoolOptions } from "../spool/record-spool.js";
import type { ArchiveEntry, EntryList } from "./types.js";
import type { CentralFields } from "./zip-format.js";

const KINDS: ArchiveEntry["kind"][] = ["file", "directory", "symlink"];
const DEFLATED = 4;
const STREAMED = 8;
const HAS_LINK = 16;
/** Flags, four numbers, crc32 and mode, the SHA-256. */
const FIXED_BYTES = 1 + 4 * 8 + 2 * 4 + 32;

/** One entry as the writer records it. */
export interface WrittenEntry {
  name: string;
  kind: ArchiveEntry["kind"];
  size: number;
  compressedSize: number;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  sha256: Uint8Array;
  mtime: Date;
  mode: number;
  linkTarget?: string;
}

interface Placed {
  entry: WrittenEntry;
  offset: number;
  streamed: boolean;
}

function encode(target: Buffer, start: number, { entry, offset, streamed }: Placed): number {
  const flags = KINDS.indexOf(entry.kind) | (entry.method === 8 ? DEFLATED : 0) | (streamed ? STREAMED : 0) | (entry.linkTarget !== undefined ? HAS_LINK : 0);
  target[start] = flags;
  let at = writeNumber(target, start + 1, entry.size);
  at = writeNumber(target, at, entry.compressedSize);
  at = writeNumber(target, at, offset);
  at = writeNumber(target, at, entry.mtime.getTime());
  at = writeWord(target, at, entry.crc32);
  at = writeWord(target, at, entry.mode);
  target.set(entry.sha256, at);
  at = writeText(target, at + 32, entry.name);
  return entry.linkTarget !== undefined ? writeText(target, at, entry.linkTarget) : at;
}

/**
 * The entries written so far, as records in a spool: kept in memory for a
 * small archive and in a temp file past the spool's threshold, so a tree of a
 * million files costs the writer disk, not memory. The list is read back in
 * order, once for the central directory and again for the manifest;
 * `ArchiveEntry` objects are built one at a time as it is read. `close()` lets
 * the records (and the temp file) go.
 */
export class WrittenEntries implements EntryList {
  /** Entries of every kind. */
  length = 0;
  /** Entries that are files (not folders or links). */
  files = 0;
  /** Uncompressed bytes of every entry. */
  bytes = 0;
  private readonly spool: RecordSpool;
  private readonly reader = new RecordReader();

  constructor(spool: RecordSpoolOptions = {}) {
    this.spool = new RecordSpool(spool);
  }

  add(entry: WrittenEntry, localHeaderOffset: number, streamed: boolean): void {
    const size = FIXED_BYTES + textSize(entry.name) + (entry.linkTarget !== undefined ? textSize(entry.linkTarget) : 0);
    this.spool.append(size, encode, { entry, offset: localHeaderOffset, streamed });
    this.length++;
    if (entry.kind === "file") this.files++;
    this.bytes += entry.size;
  }

  /** What the central directory records about each entry, in order; the object yielded is reused. */
  *central(): Generator<CentralFields> {
    const fields: CentralFields = { name: "", method: 0, crc32: 0, compressedSize: 0, size: 0, mtime: new Date(0), mode: 0, localHeaderOffset: 0, streamed: false };
    const reader = this.reader;
    for (const record of this.spool.records()) {
      reader.reset(record);
      const flags = reader.byte();
      fields.method = flags & DEFLATED ? 8 : 0;
      fields.streamed = (flags & STREAMED) !== 0;
      fields.size = reader.number();
      fields.compressedSize = reader.number();
      fields.localHeaderOffset = reader.number();
      fields.mtime = new Date(reader.number());
      fields.crc32 = reader.word();
      fields.mode = reader.word();
      reader.bytes(32);
      fields.name = reader.text();
      yield fields;
    }
  }

  *[Symbol.iterator](): Iterator<ArchiveEntry> {
    const reader = this.reader;
    for (const record of this.spool.records()) {
      reader.reset(record);
      const flags = reader.byte();
      const entry: ArchiveEntry = {
        name: "",
        kind: KINDS[flags & 3]!,
        size: reader.number(),
        compressedSize: reader.number(),
        method: flags & DEFLATED ? "deflate" : "store",
        crc32: 0,
        sha256: "",
        mtime: new Date(0),
        mode: 0,
      };
      reader.number();
      entry.mtime = new Date(reader.number());
      entry.crc32 = reader.word();
      entry.mode = reader.word();
      entry.sha256 = reader.hex(32);
      entry.name = reader.text();
      if (flags & HAS_LINK) entry.linkTarget = reader.text();
      yield entry;
    }
  }

  /** Whether the list went to a temp file. */
  get spilled(): boolean {
    return this.spool.spilled;
  }

  close(): void {
    this.spool.close();
  }
}

/** The `ArchiveEntry` a caller is told about once its entry is written. */
export function archiveEntryOf(entry: WrittenEntry): ArchiveEntry {
  const archived: ArchiveEntry = {
    name: entry.name,
    kind: entry.kind,
    size: entry.size,
    compressedSize: entry.compressedSize,
    method: entry.method === 8 ? "deflate" : "store",
    crc32: entry.crc32,
    sha256: Buffer.from(entry.sha256).toString("hex"),
    mtime: entry.mtime,
    mode: entry.mode,
  };
  if (entry.linkTarget !== undefined) archived.linkTarget = entry.linkTarget;
  return archived;
}
