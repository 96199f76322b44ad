import { Readable } from "node:stream";
import zlib from "node:zlib";
import { once } from "node:events";
import type { EntryTable } from "./entry-table.js";
import { corruptZip, quotedName, ZipFormatError } from "./errors.js";
import { fileSource, type RandomAccessSource } from "./random-access-source.js";
import { FLAG_ENCRYPTED, FLAG_UTF8, LOCAL_HEADER_SIZE, METHOD_DEFLATE, METHOD_STORE, SIGNATURE } from "./zip-format.js";
import { readZipIndex } from "./zip-index.js";

export { ZipFormatError } from "./errors.js";
export { fileSource, bufferSource, type RandomAccessSource } from "./random-access-source.js";

/** One entry as listed in the central directory. */
export interface ZipEntryInfo {
  name: string;
  kind: "file" | "directory" | "symlink";
  isSymlink: boolean;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Unix mode with file-type bits; derived from the DOS attributes for archives made elsewhere. */
  mode: number;
  /** From the extended-timestamp field (1 s precision), else the DOS time (2 s, local time). */
  mtime: Date;
  localHeaderOffset: number;
  /** General-purpose flags (bit 0 encrypted, bit 3 data descriptor, bit 11 UTF-8). */
  flags: number;
}

/** Where an entry's stored bytes (compressed as `method` says) are in the archive. */
export interface EntryDataRange {
  offset: number;
  length: number;
}

export interface ZipArchive {
  /** Entries in central-directory order. */
  readonly entries: ZipEntryInfo[];
  /** Size of the archive in bytes. */
  readonly size: number;
  /**
   * The raw stored bytes of an entry, for callers that inflate elsewhere (e.g. in
   * worker threads): read them, inflate with raw deflate when `method` is 8, and
   * compare with `size` and `crc32`.
   */
  dataRange(entry: ZipEntryInfo): Promise<EntryDataRange>;
  /** The entry's uncompressed bytes; the stream errors if the size or CRC-32 does not match. */
  openEntry(entry: ZipEntryInfo): Promise<Readable>;
  /** The whole uncompressed entry in memory (for small entries: symlink targets, `meta`), checked like `openEntry`. */
  readEntry(entry: ZipEntryInfo): Promise<Buffer>;
  /** Closes the source. */
  close(): Promise<void>;
}

/** Compressed bytes read from the source per step while streaming an entry. */
const READ_CHUNK = 1024 * 1024;
/** Local headers usually match the central one; read this much slack so header and a small entry come in one read. */
const LOCAL_HEADER_SLACK = 256;

/** Reads the central directory (Zip64-aware) of a zip behind `source`. */
export async function openZip(source: RandomAccessSource): Promise<ZipArchive> {
  const { table, dataLimit } = await readZipIndex(source, { times: true });
  return new ZipArchiveReader(source, entriesOf(table), dataLimit);
}

/** Opens a local zip file; `close()` the archive when done. */
export async function openZipFile(path: string): Promise<ZipArchive> {
  const source = await fileSource(path);
  try {
    return await openZip(source);
  } catch (error) {
    await source.close?.();
    throw error;
  }
}

/** This API hands entries around as objects; restore reads the columns instead, to keep large trees light on the heap. */
function entriesOf(table: EntryTable): ZipEntryInfo[] {
  return Array.from({ length: table.count }, (_, i) => {
    const kind = table.kind(i);
    return {
      name: table.name(i),
      kind,
      isSymlink: kind === "symlink",
      method: table.methods[i]!,
      compressedSize: table.compressedSizes[i]!,
      size: table.sizes[i]!,
      crc32: table.crc32s[i]!,
      mode: table.modes[i]!,
      mtime: new Date(table.mtime(i)),
      localHeaderOffset: table.offsets[i]!,
      flags: table.flags[i]!,
    };
  });
}

class ZipArchiveReader implements ZipArchive {
  constructor(
    private readonly source: RandomAccessSource,
    readonly entries: ZipEntryInfo[],
    /** Entry data must end before the central directory starts. */
    private readonly dataLimit: number,
  ) {}

  get size(): number {
    return this.source.size;
  }

  async dataRange(entry: ZipEntryInfo): Promise<EntryDataRange> {
    return (await this.readLocalHeader(entry, 0)).range;
  }

  async openEntry(entry: ZipEntryInfo): Promise<Readable> {
    checkSupported(entry);
    const { range, head } = await this.readLocalHeader(entry, Math.min(entry.compressedSize, READ_CHUNK));
    return Readable.from(this.entryBytes(entry, range, head), { objectMode: false });
  }

  async readEntry(entry: ZipEntryInfo): Promise<Buffer> {
    const stream = await this.openEntry(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  /**
   * Reads and checks the local header; also returns up to `wanted` leading data
   * bytes when they came with the same read, so a small entry costs one read.
   */
  private async readLocalHeader(entry: ZipEntryInfo, wanted: number): Promise<{ range: EntryDataRange; head: Buffer }> {
    const nameLength = Buffer.byteLength(entry.name, entry.flags & FLAG_UTF8 ? "utf8" : "latin1");
    const guess = Math.min(LOCAL_HEADER_SIZE + nameLength + LOCAL_HEADER_SLACK + wanted, this.dataLimit - entry.localHeaderOffset);
    if (guess < LOCAL_HEADER_SIZE) throw corruptZip(`the local header of ${quotedName(entry.name)} is cut off`);
    let buffer = await this.source.read(entry.localHeaderOffset, guess);
    if (buffer.readUInt32LE(0) !== SIGNATURE.localHeader) throw corruptZip(`the local header of ${quotedName(entry.name)} is missing at offset ${entry.localHeaderOffset}`);
    const headerLength = LOCAL_HEADER_SIZE + buffer.readUInt16LE(26) + buffer.readUInt16LE(28);
    const offset = entry.localHeaderOffset + headerLength;
    if (offset + entry.compressedSize > this.dataLimit) throw corruptZip(`the data of ${quotedName(entry.name)} runs into the central directory`);
    if (buffer.length < headerLength) buffer = await this.source.read(entry.localHeaderOffset, headerLength);
    const head = buffer.subarray(headerLength, headerLength + Math.min(wanted, entry.compressedSize));
    return { range: { offset, length: entry.compressedSize }, head };
  }

  private async *compressedBytes(range: EntryDataRange, head: Buffer): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (let at = head.length; at < range.length; at += READ_CHUNK) {
      yield await this.source.read(range.offset + at, Math.min(READ_CHUNK, range.length - at));
    }
  }

  private async *entryBytes(entry: ZipEntryInfo, range: EntryDataRange, head: Buffer): AsyncGenerator<Buffer> {
    let crc = 0;
    let size = 0;
    const tooLong = () => corruptZip(`${quotedName(entry.name)} holds more than the ${entry.size} bytes its header says`);
    if (entry.method === METHOD_STORE) {
      for await (const chunk of this.compressedBytes(range, head)) {
        crc = zlib.crc32(chunk, crc);
        size += chunk.length;
        yield chunk;
      }
    } else {
      const inflate = zlib.createInflateRaw();
      const stopFeeding = new AbortController();
      const feeding = (async () => {
        for await (const chunk of this.compressedBytes(range, head)) {
          if (stopFeeding.signal.aborted) return;
          if (!inflate.write(chunk)) await once(inflate, "drain", { signal: stopFeeding.signal });
        }
        inflate.end();
      })();
      feeding.catch((error: Error) => inflate.destroy(error));
      try {
        for await (const chunk of inflate as AsyncIterable<Buffer>) {
          crc = zlib.crc32(chunk, crc);
          size += chunk.length;
          if (size > entry.size) throw tooLong();
          yield chunk;
        }
        await feeding;
      } catch (error) {
        if (error instanceof ZipFormatError) throw error;
        throw corruptZip(`${quotedName(entry.name)} cannot be decompressed (${(error as Error).message})`);
      } finally {
        stopFeeding.abort();
        inflate.destroy();
      }
    }
    if (size !== entry.size) throw corruptZip(`${quotedName(entry.name)} has ${size} bytes, but its header says ${entry.size}`);
    if (crc >>> 0 !== entry.crc32) throw corruptZip(`${quotedName(entry.name)} fails its CRC-32 check (the archive is damaged)`);
  }
}

function checkSupported(entry: ZipEntryInfo): void {
  if (entry.flags & FLAG_ENCRYPTED) throw new ZipFormatError(`${quotedName(entry.name)} is encrypted; encrypted zip entries are not supported.`);
  if (entry.method !== METHOD_STORE && entry.method !== METHOD_DEFLATE) {
    throw new ZipFormatError(`${quotedName(entry.name)} uses compression method ${entry.method}; only stored (0) and deflated (8) entries are supported.`);
  }
}
