/**
 * Fields of a spooled record, written and read in the same order. Numbers are
 * doubles (sizes past 4 GiB and millisecond times fit exactly), texts are UTF-8
 * behind their byte length. One reader is reused for every record: decoding
 * allocates only the values it returns.
 */

/** Bytes a text may take in a record: UTF-8 needs at most 3 bytes per UTF-16 unit. */
export function textSize(text: string): number {
  return 4 + text.length * 3;
}

export function writeText(target: Buffer, at: number, text: string): number {
  const length = target.write(text, at + 4, "utf8");
  target.writeUInt32LE(length, at);
  return at + 4 + length;
}

export function writeNumber(target: Buffer, at: number, value: number): number {
  target.writeDoubleLE(value, at);
  return at + 8;
}

export function writeWord(target: Buffer, at: number, value: number): number {
  target.writeUInt32LE(value >>> 0, at);
  return at + 4;
}

export class RecordReader {
  private record: Buffer = Buffer.alloc(0);
  private at = 0;

  /** Starts reading `record` from its first byte. */
  reset(record: Buffer): this {
    this.record = record;
    this.at = 0;
    return this;
  }

  byte(): number {
    return this.record[this.at++]!;
  }

  number(): number {
    const value = this.record.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  word(): number {
    const value = this.record.readUInt32LE(this.at);
    this.at += 4;
    return value;
  }

  text(): string {
    const length = this.word();
    const value = this.record.toString("utf8", this.at, this.at + length);
    this.at += length;
    return value;
  }

  /** The next `length` bytes in hexadecimal. */
  hex(length: number): string {
    const value = this.record.toString("hex", this.at, this.at + length);
    this.at += length;
    return value;
  }

  /** A view of the next `length` bytes, valid as long as the record is. */
  bytes(length: number): Buffer {
    const value = this.record.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }
}
