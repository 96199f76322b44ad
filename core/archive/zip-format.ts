/**
 * Byte layout of zip records (APPNOTE 6.3.x). Only what this project writes and
 * reads: local and central headers, data descriptors, Zip64 records, and the
 * Info-ZIP extended-timestamp field.
 */
export const SIGNATURE = {
  localHeader: 0x04034b50,
  centralHeader: 0x02014b50,
  dataDescriptor: 0x08074b50,
  endOfCentralDirectory: 0x06054b50,
  zip64EndOfCentralDirectory: 0x06064b50,
  zip64Locator: 0x07064b50,
} as const;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_UTF8 = 0x0800;

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;

export const MAX_UINT16 = 0xffff;
export const MAX_UINT32 = 0xffffffff;

/** Host 3 (Unix) so readers take the mode from the high half of the external attributes; spec 6.3. */
export const VERSION_MADE_BY = (3 << 8) | 63;
export const VERSION_NEEDED_DEFAULT = 20;
export const VERSION_NEEDED_ZIP64 = 45;

export const EXTRA_ZIP64 = 0x0001;
export const EXTRA_EXTENDED_TIMESTAMP = 0x5455;

export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIZE = 46;
export const END_OF_CENTRAL_DIRECTORY_SIZE = 22;
export const ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
/** MS-DOS directory attribute, set alongside the Unix mode for Windows tools. */
const DOS_DIRECTORY = 0x10;

export interface HeaderFields {
  /** Written as UTF-8 (the UTF-8 flag is always set). */
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  mtime: Date;
  /**
   * CRC and sizes follow the data in a data descriptor: the entry was written
   * before its length was known. Such entries always carry a Zip64 field in the
   * local header and an 8-byte-size descriptor, so any length fits.
   */
  streamed: boolean;
}

export interface CentralFields extends HeaderFields {
  mode: number;
  localHeaderOffset: number;
}

/** DOS date and time in local time, as Info-ZIP writes them; clamped to the 1980-2107 range DOS can express. */
export function dosDateTime(date: Date): { time: number; date: number } {
  const ms = date.getTime();
  if (!Number.isFinite(ms) || date.getFullYear() < 1980) return { time: 0, date: (1 << 5) | 1 };
  if (date.getFullYear() > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

export function fromDosDateTime(time: number, date: number): Date {
  const day = date & 0x1f;
  const month = (date >> 5) & 0x0f;
  return new Date(1980 + (date >> 9), Math.max(month, 1) - 1, Math.max(day, 1), time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
}

/** Unix seconds for the extended-timestamp field, or undefined when they do not fit its unsigned 32 bits. */
function unixSeconds(date: Date): number | undefined {
  const seconds = Math.floor(date.getTime() / 1000);
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= 0x7fffffff ? seconds : undefined;
}

function timestampExtraLength(seconds: number | undefined): number {
  return seconds === undefined ? 0 : 9;
}

function writeTimestampExtra(buffer: Buffer, at: number, seconds: number | undefined): number {
  if (seconds === undefined) return at;
  buffer.writeUInt16LE(EXTRA_EXTENDED_TIMESTAMP, at);
  buffer.writeUInt16LE(5, at + 2);
  buffer.writeUInt8(1, at + 4); // flags: modification time present
  buffer.writeUInt32LE(seconds, at + 5);
  return at + 9;
}

function writeUInt64(buffer: Buffer, value: number, at: number): void {
  buffer.writeBigUInt64LE(BigInt(value), at);
}

function needsZip64Sizes(fields: HeaderFields): boolean {
  return fields.size >= MAX_UINT32 || fields.compressedSize >= MAX_UINT32;
}

function localZip64(fields: HeaderFields): boolean {
  return fields.streamed || needsZip64Sizes(fields);
}

export function localHeaderSize(fields: HeaderFields): number {
  return LOCAL_HEADER_SIZE + Buffer.byteLength(fields.name) + timestampExtraLength(unixSeconds(fields.mtime)) + (localZip64(fields) ? 20 : 0);
}

/** Writes the local header at `base`; `target` must have `localHeaderSize(fields)` bytes there. */
export function writeLocalHeader(target: Buffer, base: number, fields: HeaderFields): void {
  const seconds = unixSeconds(fields.mtime);
  const zip64 = localZip64(fields);
  const extraLength = timestampExtraLength(seconds) + (zip64 ? 20 : 0);
  const dos = dosDateTime(fields.mtime);
  target.writeUInt32LE(SIGNATURE.localHeader, base);
  target.writeUInt16LE(zip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED_DEFAULT, base + 4);
  target.writeUInt16LE(FLAG_UTF8 | (fields.streamed ? FLAG_DATA_DESCRIPTOR : 0), base + 6);
  target.writeUInt16LE(fields.method, base + 8);
  target.writeUInt16LE(dos.time, base + 10);
  target.writeUInt16LE(dos.date, base + 12);
  if (fields.streamed) {
    // Known only after the data: zero here, real values in the data descriptor.
    target.writeUInt32LE(0, base + 14);
    target.writeUInt32LE(0, base + 18);
    target.writeUInt32LE(0, base + 22);
  } else {
    target.writeUInt32LE(fields.crc32 >>> 0, base + 14);
    target.writeUInt32LE(zip64 ? MAX_UINT32 : fields.compressedSize, base + 18);
    target.writeUInt32LE(zip64 ? MAX_UINT32 : fields.size, base + 22);
  }
  const nameLength = target.write(fields.name, base + LOCAL_HEADER_SIZE, "utf8");
  target.writeUInt16LE(nameLength, base + 26);
  target.writeUInt16LE(extraLength, base + 28);
  let at = base + LOCAL_HEADER_SIZE + nameLength;
  if (zip64) {
    target.writeUInt16LE(EXTRA_ZIP64, at);
    target.writeUInt16LE(16, at + 2);
    writeUInt64(target, fields.streamed ? 0 : fields.size, at + 4);
    writeUInt64(target, fields.streamed ? 0 : fields.compressedSize, at + 12);
    at += 20;
  }
  writeTimestampExtra(target, at, seconds);
}

export function encodeLocalHeader(fields: HeaderFields): Buffer {
  const header = Buffer.allocUnsafe(localHeaderSize(fields));
  writeLocalHeader(header, 0, fields);
  return header;
}

/** Follows a streamed entry's data; 8-byte sizes because its local header has a Zip64 field. */
export function encodeDataDescriptor(crc32: number, compressedSize: number, size: number): Buffer {
  const descriptor = Buffer.allocUnsafe(24);
  descriptor.writeUInt32LE(SIGNATURE.dataDescriptor, 0);
  descriptor.writeUInt32LE(crc32 >>> 0, 4);
  writeUInt64(descriptor, compressedSize, 8);
  writeUInt64(descriptor, size, 16);
  return descriptor;
}

function centralZip64Length(fields: CentralFields): number {
  return (fields.size >= MAX_UINT32 ? 8 : 0) + (fields.compressedSize >= MAX_UINT32 ? 8 : 0) + (fields.localHeaderOffset >= MAX_UINT32 ? 8 : 0);
}

export function centralHeaderSize(fields: CentralFields): number {
  const zip64Length = centralZip64Length(fields);
  return CENTRAL_HEADER_SIZE + Buffer.byteLength(fields.name) + timestampExtraLength(unixSeconds(fields.mtime)) + (zip64Length ? 4 + zip64Length : 0);
}

/** Writes the central directory header at `base`; `target` must have `centralHeaderSize(fields)` bytes there. */
export function writeCentralHeader(target: Buffer, base: number, fields: CentralFields): void {
  const seconds = unixSeconds(fields.mtime);
  const wideSize = fields.size >= MAX_UINT32;
  const wideCompressed = fields.compressedSize >= MAX_UINT32;
  const wideOffset = fields.localHeaderOffset >= MAX_UINT32;
  const zip64Length = centralZip64Length(fields);
  const extraLength = timestampExtraLength(seconds) + (zip64Length ? 4 + zip64Length : 0);
  const dos = dosDateTime(fields.mtime);
  const usesZip64 = zip64Length > 0 || fields.streamed;
  const isDirectory = (fields.mode & S_IFMT) === S_IFDIR;
  target.writeUInt32LE(SIGNATURE.centralHeader, base);
  target.writeUInt16LE(VERSION_MADE_BY, base + 4);
  target.writeUInt16LE(usesZip64 ? VERSION_NEEDED_ZIP64 : VERSION_NEEDED_DEFAULT, base + 6);
  target.writeUInt16LE(FLAG_UTF8 | (fields.streamed ? FLAG_DATA_DESCRIPTOR : 0), base + 8);
  target.writeUInt16LE(fields.method, base + 10);
  target.writeUInt16LE(dos.time, base + 12);
  target.writeUInt16LE(dos.date, base + 14);
  target.writeUInt32LE(fields.crc32 >>> 0, base + 16);
  target.writeUInt32LE(wideCompressed ? MAX_UINT32 : fields.compressedSize, base + 20);
  target.writeUInt32LE(wideSize ? MAX_UINT32 : fields.size, base + 24);
  const nameLength = target.write(fields.name, base + CENTRAL_HEADER_SIZE, "utf8");
  target.writeUInt16LE(nameLength, base + 28);
  target.writeUInt16LE(extraLength, base + 30);
  target.writeUInt16LE(0, base + 32); // comment length
  target.writeUInt16LE(0, base + 34); // disk number start
  target.writeUInt16LE(0, base + 36); // internal attributes
  target.writeUInt32LE((((fields.mode & 0xffff) << 16) | (isDirectory ? DOS_DIRECTORY : 0)) >>> 0, base + 38);
  target.writeUInt32LE(wideOffset ? MAX_UINT32 : fields.localHeaderOffset, base + 42);
  let at = base + CENTRAL_HEADER_SIZE + nameLength;
  if (zip64Length) {
    // Only the fields whose 32-bit slot holds 0xFFFFFFFF, in the order the spec fixes.
    target.writeUInt16LE(EXTRA_ZIP64, at);
    target.writeUInt16LE(zip64Length, at + 2);
    at += 4;
    if (wideSize) (writeUInt64(target, fields.size, at), (at += 8));
    if (wideCompressed) (writeUInt64(target, fields.compressedSize, at), (at += 8));
    if (wideOffset) (writeUInt64(target, fields.localHeaderOffset, at), (at += 8));
  }
  writeTimestampExtra(target, at, seconds);
}

export function encodeCentralHeader(fields: CentralFields): Buffer {
  const header = Buffer.allocUnsafe(centralHeaderSize(fields));
  writeCentralHeader(header, 0, fields);
  return header;
}

/** End of central directory, preceded by the Zip64 record and locator when a count or offset overflows. */
export function encodeEndOfCentralDirectory(entryCount: number, centralDirectoryOffset: number, centralDirectorySize: number): Buffer {
  const zip64 = entryCount >= MAX_UINT16 || centralDirectoryOffset >= MAX_UINT32 || centralDirectorySize >= MAX_UINT32;
  const length = END_OF_CENTRAL_DIRECTORY_SIZE + (zip64 ? ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE + ZIP64_LOCATOR_SIZE : 0);
  const record = Buffer.alloc(length);
  let at = 0;
  if (zip64) {
    const zip64RecordOffset = centralDirectoryOffset + centralDirectorySize;
    record.writeUInt32LE(SIGNATURE.zip64EndOfCentralDirectory, 0);
    writeUInt64(record, ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE - 12, 4);
    record.writeUInt16LE(VERSION_MADE_BY, 12);
    record.writeUInt16LE(VERSION_NEEDED_ZIP64, 14);
    // disk numbers at 16 and 20 stay 0
    writeUInt64(record, entryCount, 24);
    writeUInt64(record, entryCount, 32);
    writeUInt64(record, centralDirectorySize, 40);
    writeUInt64(record, centralDirectoryOffset, 48);
    at = ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE;
    record.writeUInt32LE(SIGNATURE.zip64Locator, at);
    record.writeUInt32LE(0, at + 4);
    writeUInt64(record, zip64RecordOffset, at + 8);
    record.writeUInt32LE(1, at + 16);
    at += ZIP64_LOCATOR_SIZE;
  }
  record.writeUInt32LE(SIGNATURE.endOfCentralDirectory, at);
  record.writeUInt16LE(Math.min(entryCount, MAX_UINT16), at + 8);
  record.writeUInt16LE(Math.min(entryCount, MAX_UINT16), at + 10);
  record.writeUInt32LE(Math.min(centralDirectorySize, MAX_UINT32), at + 12);
  record.writeUInt32LE(Math.min(centralDirectoryOffset, MAX_UINT32), at + 16);
  return record;
}
