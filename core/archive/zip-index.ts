import { EntryTable } from "./entry-table.js";
import { isAscii, type NameTable } from "./name-table.js";
import { corruptZip, quotedName } from "./errors.js";
import type { RandomAccessSource } from "./random-access-source.js";
import {
  CENTRAL_HEADER_SIZE,
  END_OF_CENTRAL_DIRECTORY_SIZE,
  EXTRA_EXTENDED_TIMESTAMP,
  EXTRA_ZIP64,
  FLAG_UTF8,
  fromDosDateTime,
  LOCAL_HEADER_SIZE,
  MAX_UINT16,
  MAX_UINT32,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SIGNATURE,
  ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE,
  ZIP64_LOCATOR_SIZE,
} from "./zip-format.js";

/** A zip's central directory in columns, and where the entries' data must end. */
export interface ZipIndex {
  table: EntryTable;
  /** Offset of the central directory: no entry's data may reach past it. */
  dataLimit: number;
  /** Size of the archive in bytes. */
  size: number;
}

/**
 * Reads a zip's central directory (Zip64-aware) into an EntryTable: columns
 * instead of one object per entry keep a restore of tens of thousands of files
 * light on the heap.
 */
export async function readZipIndex(source: RandomAccessSource, options: { sameAs?: EntryTable; times?: boolean } = {}): Promise<ZipIndex> {
  const directory = await locateDirectory(source);
  // The count was checked against the directory's size (46 bytes a record at the least), so the columns,
  // made for it at once, take no more than the directory's own bytes: no doubling as rows arrive.
  // Times only when asked for: a restore sets the manifest's, so the zip's would be 8 bytes a row for nothing.
  const table = new EntryTable(directory.count, "zip", { times: options.times, sharing: options.sameAs });
  const names = new SharedNames(table, options.sameAs?.names);
  // Read in chunks, one buffer reused: a large directory is never held whole, and no large
  // short-lived allocation leaves the process's allocator handing out memory it cannot return.
  // Remote reads pay a round trip each: fewer, larger ones there.
  const chunkBytes = source.local === false ? 4 * 1024 * 1024 : 120 * 1024;
  let buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(directory.size, 1)));
  let filled = 0;
  let read = 0;
  let at = 0;
  const fill = async () => {
    // Keep the unread part, then top the buffer up from the directory.
    buffer.copy(buffer, 0, at, filled);
    filled -= at;
    at = 0;
    const length = Math.min(buffer.length - filled, directory.size - read);
    if (length > 0) {
      if (source.readInto) await source.readInto(buffer.subarray(filled, filled + length), directory.offset + read, length);
      else (await source.read(directory.offset + read, length)).copy(buffer, filled);
      filled += length;
      read += length;
    }
  };
  const ensure = async (bytes: number) => {
    if (at + bytes <= filled) return true;
    if (bytes > buffer.length) {
      const bigger = Buffer.allocUnsafe(bytes);
      buffer.copy(bigger, 0, at, filled);
      filled -= at;
      at = 0;
      buffer = bigger;
    }
    await fill();
    return at + bytes <= filled;
  };
  while (read < directory.size || at < filled) {
    const index = names.count;
    if (index >= directory.count) throw corruptZip(`the central directory holds more than the ${directory.count} entries its end record says`);
    if (!(await ensure(CENTRAL_HEADER_SIZE)) || buffer.readUInt32LE(at) !== SIGNATURE.centralHeader) {
      throw corruptZip(`central directory entry ${index + 1} is damaged (bad signature at offset ${directory.offset + read - filled + at})`);
    }
    const recordLength = CENTRAL_HEADER_SIZE + buffer.readUInt16LE(at + 28) + buffer.readUInt16LE(at + 30) + buffer.readUInt16LE(at + 32);
    if (!(await ensure(recordLength))) throw corruptZip(`central directory entry ${index + 1} runs past the end of the directory`);
    table.reserve(index);
    readRecord(buffer, at, table, index, directory.offset, names);
    at += recordLength;
  }
  names.finish();
  if (table.count !== directory.count) throw corruptZip(`the central directory lists ${table.count} entries but the end record says ${directory.count}`);
  return { table, dataLimit: directory.offset, size: source.size };
}

/**
 * The table's rows in the order of their data in the zip (4 bytes a row). A
 * zip written in one pass lists its entries in that order already, which is
 * checked before anything is sorted.
 */
export function zipOrder(table: EntryTable): Uint32Array {
  const order = new Uint32Array(table.count);
  for (let row = 0; row < order.length; row++) order[row] = row;
  return inZipOrder(table) ? order : order.sort((a, b) => table.offsets[a]! - table.offsets[b]! || a - b);
}

/** True when the rows are in the order of their data already (a zip written in one pass): no order need be held. */
export function inZipOrder(table: EntryTable): boolean {
  for (let row = 1; row < table.count; row++) if (table.offsets[row]! < table.offsets[row - 1]!) return false;
  return true;
}

/** One central-directory record (complete in `raw` at `at`) into row `index` of the table. */
function readRecord(raw: Buffer, at: number, table: EntryTable, index: number, directoryOffset: number, names: SharedNames): void {
  const versionMadeBy = raw.readUInt16LE(at + 4);
  const flags = raw.readUInt16LE(at + 8);
  let compressedSize = raw.readUInt32LE(at + 20);
  let size = raw.readUInt32LE(at + 24);
  const nameLength = raw.readUInt16LE(at + 28);
  const extraLength = raw.readUInt16LE(at + 30);
  const external = raw.readUInt32LE(at + 38);
  let offset = raw.readUInt32LE(at + 42);
  const nameStart = at + CENTRAL_HEADER_SIZE;
  const encoding = flags & FLAG_UTF8 ? "utf8" : "latin1";
  // Made only for a message: the name is kept as bytes.
  const name = () => raw.toString(encoding, nameStart, nameStart + nameLength);
  let unixSeconds: number | undefined;

  let extraAt = nameStart + nameLength;
  const extraEnd = extraAt + extraLength;
  while (extraAt + 4 <= extraEnd) {
    const id = raw.readUInt16LE(extraAt);
    const length = raw.readUInt16LE(extraAt + 2);
    const data = extraAt + 4;
    if (data + length > extraEnd) throw corruptZip(`the extra field of ${quotedName(name())} is damaged`);
    if (id === EXTRA_ZIP64) {
      let field = data;
      const take = (what: string): number => {
        if (field + 8 > data + length) throw corruptZip(`the Zip64 field of ${quotedName(name())} lacks the ${what}`);
        const value = safeNumber(raw.readBigUInt64LE(field), what);
        field += 8;
        return value;
      };
      if (size === MAX_UINT32) size = take("uncompressed size");
      if (compressedSize === MAX_UINT32) compressedSize = take("compressed size");
      if (offset === MAX_UINT32) offset = take("local header offset");
    } else if (id === EXTRA_EXTENDED_TIMESTAMP && length >= 5 && raw[data]! & 1) {
      unixSeconds = raw.readUInt32LE(data + 1);
    }
    extraAt = data + length;
  }
  // 0xFFFFFFFF defers to the Zip64 field: without one, the value would be taken at its word as 4 GiB.
  if (size === MAX_UINT32 || compressedSize === MAX_UINT32 || offset === MAX_UINT32) {
    throw corruptZip(`the Zip64 field of ${quotedName(name())} is missing, though its sizes or offset point to it`);
  }
  if (offset + LOCAL_HEADER_SIZE > directoryOffset) throw corruptZip(`the local header of ${quotedName(name())} is said to be past the central directory`);

  const mode = modeOf(versionMadeBy >> 8, external, nameLength > 0 && raw[nameStart + nameLength - 1] === 0x2f);
  const type = mode & S_IFMT;
  names.add(index, raw, nameStart, nameStart + nameLength, encoding);
  table.setCommon("kinds", index, type === S_IFDIR ? 1 : type === S_IFLNK ? 2 : 0);
  table.setCommon("modes", index, mode);
  table.setCommon("sizes", index, size);
  table.setCommon("compressedSizes", index, compressedSize);
  table.setCommon("methods", index, raw.readUInt16LE(at + 10));
  table.setCommon("crc32s", index, raw.readUInt32LE(at + 16));
  table.setWide("offsets", index, offset);
  table.flags[index] = flags;
  if (!table.hasTimes) return;
  // Prefer the extended timestamp: UTC and to the second, where the DOS time is local and to two seconds.
  table.setMtime(index, unixSeconds !== undefined ? unixSeconds * 1000 : fromDosDateTime(raw.readUInt16LE(at + 12), raw.readUInt16LE(at + 14)).getTime());
}

/** Unix and macOS tools put the mode in the high half of the external attributes; others get sensible defaults. */
function modeOf(host: number, external: number, endsWithSlash: boolean): number {
  const unixMode = external >>> 16;
  const looksLikeDirectory = endsWithSlash || (external & 0x10) !== 0;
  if ((host === 3 || host === 19) && unixMode !== 0) {
    if ((unixMode & S_IFMT) !== 0) return unixMode;
    return unixMode | (looksLikeDirectory ? S_IFDIR : S_IFREG);
  }
  return looksLikeDirectory ? S_IFDIR | 0o755 : S_IFREG | 0o644;
}

/**
 * The zip's names, shared with a manifest's while they are the same names in
 * the same order (the usual case: a backup's manifest lists its zip's entries
 * in order), so a large tree's names are held once. At the first name that
 * differs, the zip takes its own copy of the names so far and goes on alone.
 */
class SharedNames {
  count = 0;
  private sharing: boolean;

  constructor(
    private readonly table: EntryTable,
    private readonly manifest: NameTable | undefined,
  ) {
    this.sharing = manifest !== undefined;
  }

  add(index: number, raw: Buffer, start: number, end: number, encoding: "utf8" | "latin1"): void {
    this.count++;
    // Stored as they are only when valid UTF-8 (or ASCII read as Latin-1), as the manifest's are.
    if (this.sharing && index < this.manifest!.count && (encoding === "utf8" || isAscii(raw, start, end)) && this.manifest!.equalsBytes(index, raw, start, end)) return;
    if (this.sharing) this.stopSharing(index);
    this.table.names.pushBytes(raw, start, end, encoding);
  }

  finish(): void {
    if (!this.sharing) return;
    if (this.count === this.manifest!.count) this.table.names = this.manifest!;
    else this.stopSharing(this.count);
  }

  private stopSharing(rows: number): void {
    this.sharing = false;
    this.table.names.pushFrom(this.manifest!, rows);
  }
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corruptZip(`the ${what} is out of range`);
  return Number(value);
}

async function locateDirectory(source: RandomAccessSource): Promise<{ offset: number; size: number; count: number }> {
  if (source.size < END_OF_CENTRAL_DIRECTORY_SIZE) throw corruptZip(`it is only ${source.size} bytes long, too short to be a zip`);
  const tailLength = Math.min(source.size, END_OF_CENTRAL_DIRECTORY_SIZE + MAX_UINT16 + ZIP64_LOCATOR_SIZE);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  let at = -1;
  for (let i = tail.length - END_OF_CENTRAL_DIRECTORY_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIGNATURE.endOfCentralDirectory && i + END_OF_CENTRAL_DIRECTORY_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw corruptZip("no end-of-central-directory record (the file is truncated or not a zip)");
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw corruptZip("multi-disk (split) archives are not supported");
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  let directoryEnd = tailStart + at;
  const locatorAt = at - ZIP64_LOCATOR_SIZE;
  if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === SIGNATURE.zip64Locator) {
    const recordOffset = safeNumber(tail.readBigUInt64LE(locatorAt + 8), "Zip64 record offset");
    if (recordOffset + ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE > tailStart + locatorAt) throw corruptZip("the Zip64 end-of-central-directory locator points past itself");
    const record = await source.read(recordOffset, ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE);
    if (record.readUInt32LE(0) !== SIGNATURE.zip64EndOfCentralDirectory) throw corruptZip("the Zip64 end-of-central-directory record is missing where its locator points");
    count = safeNumber(record.readBigUInt64LE(32), "entry count");
    size = safeNumber(record.readBigUInt64LE(40), "central directory size");
    offset = safeNumber(record.readBigUInt64LE(48), "central directory offset");
    directoryEnd = recordOffset;
  } else if (count === MAX_UINT16 || size === MAX_UINT32 || offset === MAX_UINT32) {
    throw corruptZip("the end-of-central-directory record needs Zip64 but the Zip64 locator is missing");
  }
  if (offset + size > directoryEnd) throw corruptZip("the central directory extends past the end of the archive (truncated file?)");
  // The count sizes the table up front; a count the directory could not hold is a lie.
  if (count > size / CENTRAL_HEADER_SIZE) throw corruptZip(`the end record claims ${count} entries, more than its ${size}-byte central directory can hold`);
  return { offset, size, count };
}
