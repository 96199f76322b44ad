/**
 * Turns raw text-protocol values (the bytes the server sent, as mysql2 hands them over with
 * `typeCast: false`) into SQL literals, written straight into one byte buffer per INSERT
 * statement. Working on bytes avoids decoding and re-encoding every string: the connection
 * is utf8mb4, and the bytes that need escaping never occur inside a multi-byte UTF-8 sequence.
 */

/** How a column's values are written. */
export type LiteralKind = "number" | "text" | "binary";

// mysql2 column type codes (MYSQL_TYPE_*).
const NUMBER_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246]);
const TEMPORAL_TYPES = new Set([7, 10, 11, 12, 14]);
const BIT = 16;
const JSON_TYPE = 245;
const GEOMETRY = 255;
const BINARY_CHARSET = 63;

/** Picks the literal form from the result-set column metadata. */
export function literalKindFor(field: { columnType?: number; type?: number; characterSet?: number }): LiteralKind {
  const type = field.columnType ?? field.type ?? -1;
  if (NUMBER_TYPES.has(type)) return "number";
  if (TEMPORAL_TYPES.has(type) || type === JSON_TYPE) return "text";
  if (type === BIT || type === GEOMETRY) return "binary";
  return field.characterSet === BINARY_CHARSET ? "binary" : "text";
}

const ESCAPE = new Uint8Array(256);
ESCAPE[0x00] = 0x30; // \0
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x1a] = 0x5a; // \Z
ESCAPE[0x27] = 0x27; // \'
ESCAPE[0x5c] = 0x5c; // \\

const NULL_BYTES = Buffer.from("NULL", "latin1");
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");

/**
 * Builds multi-row `INSERT INTO t (cols) VALUES (..),(..);` statements. A statement is
 * closed once it reaches `statementBytes` (mariadb-dump's extended inserts do the same,
 * which keeps every statement well under the server's max_allowed_packet).
 */
export class InsertStatementBuilder {
  private buffer: Buffer;
  private length = 0;
  private rowsInStatement = 0;
  private readonly prefix: Buffer;

  constructor(
    insertPrefix: string,
    private readonly kinds: readonly LiteralKind[],
    private readonly statementBytes = 1 << 20,
  ) {
    this.prefix = Buffer.from(insertPrefix, "utf8");
    this.buffer = Buffer.allocUnsafe(statementBytes + 64 * 1024);
  }

  /** Appends one row given as raw values; returns a finished statement when this row filled one, else undefined. */
  addRow(values: ReadonlyArray<Buffer | null>): Buffer | undefined {
    this.openRow();
    for (let column = 0; column < values.length; column++) {
      if (column > 0) this.buffer[this.length++] = 0x2c;
      const value = values[column];
      if (value === null || value === undefined) this.writeNull();
      else this.writeValue(this.kinds[column]!, value, 0, value.length);
    }
    return this.closeRow();
  }

  /**
   * Appends one row straight from a text-protocol row packet: `columnCount` length-coded
   * values starting at `offset` (0xfb is NULL). Nothing is allocated per value.
   */
  addPacketRow(packet: Buffer, offset: number, columnCount: number): Buffer | undefined {
    this.openRow();
    let position = offset;
    for (let column = 0; column < columnCount; column++) {
      if (column > 0) this.buffer[this.length++] = 0x2c;
      const first = packet[position++]!;
      let size: number;
      if (first < 0xfb) {
        size = first;
      } else if (first === 0xfb) {
        this.writeNull();
        continue;
      } else if (first === 0xfc) {
        size = packet[position]! | (packet[position + 1]! << 8);
        position += 2;
      } else if (first === 0xfd) {
        size = packet[position]! | (packet[position + 1]! << 8) | (packet[position + 2]! << 16);
        position += 3;
      } else {
        size = packet.readUInt32LE(position) + packet.readUInt32LE(position + 4) * 0x100000000;
        position += 8;
      }
      this.writeValue(this.kinds[column]!, packet, position, position + size);
      position += size;
    }
    return this.closeRow();
  }

  private openRow(): void {
    // Reserve for the separators; values reserve their own room.
    this.reserve(this.prefix.length + 2 + this.kinds.length);
    if (this.rowsInStatement === 0) {
      this.length += this.prefix.copy(this.buffer, this.length);
    } else {
      this.buffer[this.length++] = 0x2c; // ,
    }
    this.buffer[this.length++] = 0x28; // (
  }

  private closeRow(): Buffer | undefined {
    this.reserve(1);
    this.buffer[this.length++] = 0x29; // )
    this.rowsInStatement++;
    return this.length >= this.statementBytes ? this.finish() : undefined;
  }

  private writeNull(): void {
    this.reserve(4 + this.kinds.length);
    this.length += NULL_BYTES.copy(this.buffer, this.length);
  }

  private writeValue(kind: LiteralKind, source: Buffer, start: number, end: number): void {
    // Room for this value plus the separators still to come in the row.
    if (kind === "number") this.writeRaw(source, start, end);
    else if (kind === "text") this.writeQuoted(source, start, end);
    else this.writeHex(source, start, end);
  }

  /** Closes the statement being built, if any rows are in it. */
  finish(): Buffer | undefined {
    if (this.rowsInStatement === 0) return undefined;
    this.reserve(2);
    this.buffer[this.length++] = 0x3b; // ;
    this.buffer[this.length++] = 0x0a;
    const statement = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(Math.max(this.statementBytes + 64 * 1024, 64 * 1024));
    this.length = 0;
    this.rowsInStatement = 0;
    return statement;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes + 1024));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  private writeRaw(source: Buffer, start: number, end: number): void {
    const size = end - start;
    this.reserve(size + this.kinds.length);
    const target = this.buffer;
    let position = this.length;
    if (size < 32) {
      for (let index = start; index < end; index++) target[position++] = source[index]!;
    } else {
      position += source.copy(target, position, start, end);
    }
    this.length = position;
  }

  private writeQuoted(source: Buffer, start: number, end: number): void {
    this.reserve((end - start) * 2 + 2 + this.kinds.length);
    const target = this.buffer;
    let position = this.length;
    target[position++] = 0x27;
    for (let index = start; index < end; index++) {
      const byte = source[index]!;
      const escaped = ESCAPE[byte]!;
      if (escaped === 0) {
        target[position++] = byte;
      } else {
        target[position++] = 0x5c;
        target[position++] = escaped;
      }
    }
    target[position++] = 0x27;
    this.length = position;
  }

  private writeHex(source: Buffer, start: number, end: number): void {
    const size = end - start;
    this.reserve(size * 2 + 2 + this.kinds.length);
    const target = this.buffer;
    if (size === 0) {
      target[this.length++] = 0x27;
      target[this.length++] = 0x27;
      return;
    }
    target[this.length++] = 0x30; // 0
    target[this.length++] = 0x78; // x
    if (size > 64) {
      this.length += target.write(source.toString("hex", start, end), this.length, "latin1");
      return;
    }
    let position = this.length;
    for (let index = start; index < end; index++) {
      const byte = source[index]!;
      target[position++] = HEX_DIGITS[byte >> 4]!;
      target[position++] = HEX_DIGITS[byte & 15]!;
    }
    this.length = position;
  }
}
