import type { RecordSpoolOptions } from "../spool/record-spool.js";
import type { ArchiveOutput } from "./archive-output.js";
import type { ArchiveEntry } from "./types.js";
import { archiveEntryOf, WrittenEntries, type WrittenEntry } from "./written-entries.js";
import {
  centralHeaderSize,
  encodeDataDescriptor,
  encodeEndOfCentralDirectory,
  encodeLocalHeader,
  type HeaderFields,
  localHeaderSize,
  writeCentralHeader,
  writeLocalHeader,
} from "./zip-format.js";

/**
 * The records of a zip in the order they appear in it: each entry's local
 * header, data and (when its sizes were not known up front) data descriptor,
 * then the central directory and end records. Entry offsets are taken from the
 * output's position as they are written and kept for the central directory;
 * the Zip64 choices are made by the encoders in zip-format.ts.
 */
export class ZipRecords {
  readonly entries: WrittenEntries;

  constructor(
    private readonly output: ArchiveOutput,
    spool: RecordSpoolOptions = {},
  ) {
    this.entries = new WrittenEntries(spool);
  }

  get position(): number {
    return this.output.position;
  }

  /**
   * An entry whose content and checksums are known before its header: the
   * header, then `payload`. Returns a promise only when it could not be written at once.
   */
  writeWhole(entry: WrittenEntry, payload: Uint8Array): Promise<void> | undefined {
    const header: HeaderFields = { name: entry.name, method: entry.method, crc32: entry.crc32, compressedSize: entry.compressedSize, size: entry.size, mtime: entry.mtime, streamed: false };
    this.entries.add(entry, this.output.position, false);
    // Encoded straight into the output's buffer: no allocation per small file.
    const writingHeader = this.output.writeEncoded(localHeaderSize(header), writeLocalHeader, header);
    if (writingHeader) return writingHeader.then(() => this.output.write(payload));
    return this.output.write(payload);
  }

  /** The local header of an entry whose sizes and checksum follow its data, in a data descriptor. */
  writeStreamedHeader(name: string, method: number, mtime: Date): Promise<void> | undefined {
    return this.output.write(encodeLocalHeader({ name, method, crc32: 0, compressedSize: 0, size: 0, mtime, streamed: true }));
  }

  writeData(data: Uint8Array): Promise<void> | undefined {
    return this.output.write(data);
  }

  /** Closes a streamed entry whose header was written at `offset`; returns the entry as written. */
  async writeDescriptor(entry: WrittenEntry, offset: number): Promise<ArchiveEntry> {
    await this.output.write(encodeDataDescriptor(entry.crc32, entry.compressedSize, entry.size));
    this.entries.add(entry, offset, true);
    return archiveEntryOf(entry);
  }

  /** The central directory and end records after every entry, then everything goes to the sink. */
  async writeCentralDirectory(): Promise<void> {
    const start = this.output.position;
    for (const fields of this.entries.central()) {
      const writing = this.output.writeEncoded(centralHeaderSize(fields), writeCentralHeader, fields);
      if (writing) await writing;
    }
    const size = this.output.position - start;
    await this.output.write(encodeEndOfCentralDirectory(this.entries.length, start, size));
    await this.output.flush();
  }
}
