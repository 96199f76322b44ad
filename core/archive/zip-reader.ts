import { Readable } from "node:stream";
import zlib from "node:zlib";
import { once } from "node:events";
import { ZipFormatError } from "./errors.js";
import { fileSource, type RandomAccessSource } from "./random-access-source.js";
import {
  CENTRAL_HEADER_SIZE,
  END_OF_CENTRAL_DIRECTORY_SIZE,
  EXTRA_EXTENDED_TIMESTAMP,
  EXTRA_ZIP64,
  FLAG_ENCRYPTED,
  FLAG_UTF8,
  fromDosDateTime,
  LOCAL_HEADER_SIZE,
  MAX_UINT16,
  MAX_UINT32,
  METHOD_DEFLATE,
  METHOD_STORE,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SIGNATURE,
  ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE,
  ZIP64_LOCATOR_SIZE,
} from "./zip-format.js";

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
const MAX_COMMENT = MAX_UINT16;

/** Reads the central directory (Zip64-aware) of a zip behind `source`. */
export async function openZip(source: RandomAccessSource): Promise<ZipArchive> {
  const directory = await readDirectoryLocation(source);
  const raw = await source.read(directory.offset, directory.size);
  const entries = parseCentralDirectory(raw, directory.count, directory.offset);
  return new ZipArchiveReader(source, entries, directory.offset);
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

function corrupt(message: string): ZipFormatError {
  return new ZipFormatError(`Not a valid zip archive: ${message}.`);
}

async function readDirectoryLocation(source: RandomAccessSource): Promise<{ offset: number; size: number; count: number }> {
  if (source.size < END_OF_CENTRAL_DIRECTORY_SIZE) throw corrupt(`it is only ${source.size} bytes long, too short to be a zip`);
  const tailLength = Math.min(source.size, END_OF_CENTRAL_DIRECTORY_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  let at = -1;
  for (let i = tail.length - END_OF_CENTRAL_DIRECTORY_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIGNATURE.endOfCentralDirectory && i + END_OF_CENTRAL_DIRECTORY_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw corrupt("no end-of-central-directory record (the file is truncated or not a zip)");
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw corrupt("multi-disk (split) archives are not supported");
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  let directoryEnd = tailStart + at;

  const locatorAt = at - ZIP64_LOCATOR_SIZE;
  const hasLocator = locatorAt >= 0 && tail.readUInt32LE(locatorAt) === SIGNATURE.zip64Locator;
  if (hasLocator) {
    const recordOffset = Number(tail.readBigUInt64LE(locatorAt + 8));
    if (recordOffset + ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE > tailStart + locatorAt) throw corrupt("the Zip64 end-of-central-directory locator points past itself");
    const record = await source.read(recordOffset, ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE);
    if (record.readUInt32LE(0) !== SIGNATURE.zip64EndOfCentralDirectory) throw corrupt("the Zip64 end-of-central-directory record is missing where its locator points");
    count = safeNumber(record.readBigUInt64LE(32), "entry count");
    size = safeNumber(record.readBigUInt64LE(40), "central directory size");
    offset = safeNumber(record.readBigUInt64LE(48), "central directory offset");
    directoryEnd = recordOffset;
  } else if (count === MAX_UINT16 || size === MAX_UINT32 || offset === MAX_UINT32) {
    throw corrupt("the end-of-central-directory record needs Zip64 but the Zip64 locator is missing");
  }
  if (offset + size > directoryEnd) throw corrupt("the central directory extends past the end of the archive (truncated file?)");
  return { offset, size, count };
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`the ${what} is out of range`);
  return Number(value);
}

function parseCentralDirectory(raw: Buffer, expectedCount: number, directoryOffset: number): ZipEntryInfo[] {
  const entries: ZipEntryInfo[] = [];
  let at = 0;
  while (at < raw.length) {
    if (at + CENTRAL_HEADER_SIZE > raw.length || raw.readUInt32LE(at) !== SIGNATURE.centralHeader) {
      throw corrupt(`central directory entry ${entries.length + 1} is damaged (bad signature at offset ${directoryOffset + at})`);
    }
    const versionMadeBy = raw.readUInt16LE(at + 4);
    const flags = raw.readUInt16LE(at + 8);
    const method = raw.readUInt16LE(at + 10);
    const dosTime = raw.readUInt16LE(at + 12);
    const dosDate = raw.readUInt16LE(at + 14);
    const crc32 = raw.readUInt32LE(at + 16);
    let compressedSize = raw.readUInt32LE(at + 20);
    let size = raw.readUInt32LE(at + 24);
    const nameLength = raw.readUInt16LE(at + 28);
    const extraLength = raw.readUInt16LE(at + 30);
    const commentLength = raw.readUInt16LE(at + 32);
    const external = raw.readUInt32LE(at + 38);
    let localHeaderOffset = raw.readUInt32LE(at + 42);
    const end = at + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > raw.length) throw corrupt(`central directory entry ${entries.length + 1} runs past the end of the directory`);
    const nameBytes = raw.subarray(at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength);
    const name = nameBytes.toString(flags & FLAG_UTF8 ? "utf8" : "latin1");
    let mtime: Date | undefined;

    let extraAt = at + CENTRAL_HEADER_SIZE + nameLength;
    const extraEnd = extraAt + extraLength;
    while (extraAt + 4 <= extraEnd) {
      const id = raw.readUInt16LE(extraAt);
      const length = raw.readUInt16LE(extraAt + 2);
      const data = extraAt + 4;
      if (data + length > extraEnd) throw corrupt(`the extra field of "${name}" is damaged`);
      if (id === EXTRA_ZIP64) {
        let field = data;
        const take = (what: string): number => {
          if (field + 8 > data + length) throw corrupt(`the Zip64 field of "${name}" lacks the ${what}`);
          const value = safeNumber(raw.readBigUInt64LE(field), what);
          field += 8;
          return value;
        };
        if (size === MAX_UINT32) size = take("uncompressed size");
        if (compressedSize === MAX_UINT32) compressedSize = take("compressed size");
        if (localHeaderOffset === MAX_UINT32) localHeaderOffset = take("local header offset");
      } else if (id === EXTRA_EXTENDED_TIMESTAMP && length >= 5 && raw[data]! & 1) {
        mtime = new Date(raw.readUInt32LE(data + 1) * 1000);
      }
      extraAt = data + length;
    }
    if (localHeaderOffset + LOCAL_HEADER_SIZE > directoryOffset) throw corrupt(`the local header of "${name}" is said to be past the central directory`);

    const mode = modeOf(versionMadeBy >> 8, external, name);
    const type = mode & S_IFMT;
    const kind = type === S_IFDIR ? "directory" : type === S_IFLNK ? "symlink" : "file";
    entries.push({
      name,
      kind,
      isSymlink: kind === "symlink",
      method,
      compressedSize,
      size,
      crc32,
      mode,
      mtime: mtime ?? fromDosDateTime(dosTime, dosDate),
      localHeaderOffset,
      flags,
    });
    at = end;
  }
  if (entries.length !== expectedCount) throw corrupt(`the central directory lists ${entries.length} entries but the end record says ${expectedCount}`);
  return entries;
}

/** Unix and macOS tools put the mode in the high half of the external attributes; others get sensible defaults. */
function modeOf(host: number, external: number, name: string): number {
  const unixMode = external >>> 16;
  const looksLikeDirectory = name.endsWith("/") || (external & 0x10) !== 0;
  if ((host === 3 || host === 19) && unixMode !== 0) {
    if ((unixMode & S_IFMT) !== 0) return unixMode;
    return unixMode | (looksLikeDirectory ? S_IFDIR : S_IFREG);
  }
  return looksLikeDirectory ? S_IFDIR | 0o755 : S_IFREG | 0o644;
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
    if (guess < LOCAL_HEADER_SIZE) throw corrupt(`the local header of "${entry.name}" is cut off`);
    let buffer = await this.source.read(entry.localHeaderOffset, guess);
    if (buffer.readUInt32LE(0) !== SIGNATURE.localHeader) throw corrupt(`the local header of "${entry.name}" is missing at offset ${entry.localHeaderOffset}`);
    const headerLength = LOCAL_HEADER_SIZE + buffer.readUInt16LE(26) + buffer.readUInt16LE(28);
    const offset = entry.localHeaderOffset + headerLength;
    if (offset + entry.compressedSize > this.dataLimit) throw corrupt(`the data of "${entry.name}" runs into the central directory`);
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
    const tooLong = () => corrupt(`"${entry.name}" holds more than the ${entry.size} bytes its header says`);
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
        throw corrupt(`"${entry.name}" cannot be decompressed (${(error as Error).message})`);
      } finally {
        stopFeeding.abort();
        inflate.destroy();
      }
    }
    if (size !== entry.size) throw corrupt(`"${entry.name}" has ${size} bytes, but its header says ${entry.size}`);
    if (crc >>> 0 !== entry.crc32) throw corrupt(`"${entry.name}" fails its CRC-32 check (the archive is damaged)`);
  }
}

function checkSupported(entry: ZipEntryInfo): void {
  if (entry.flags & FLAG_ENCRYPTED) throw new ZipFormatError(`"${entry.name}" is encrypted; encrypted zip entries are not supported.`);
  if (entry.method !== METHOD_STORE && entry.method !== METHOD_DEFLATE) {
    throw new ZipFormatError(`"${entry.name}" uses compression method ${entry.method}; only stored (0) and deflated (8) entries are supported.`);
  }
}
