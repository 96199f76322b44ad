import { DUMP_TRAILER_LINE, PG_DUMP_TRAILER_LINE } from "./dump-format.js";

export type DumpPiece =
  /** One SQL statement, with its terminating `;`. */
  | { kind: "statement"; sql: string; line: number }
  /** A `COPY ... FROM stdin;` statement: read its rows with `copyData()` before asking for the next piece. */
  | { kind: "copy"; sql: string; line: number }
  /** A psql backslash command line (pg_dump writes `\restrict`/`\unrestrict`). */
  | { kind: "meta"; command: string; line: number };

/** Thrown for text that cannot be a complete dump; `line` is 1-based. */
export class DumpSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(`${message} (line ${line} of the dump)`);
  }
}

type Scan =
  | { kind: "more" }
  | { kind: "skip"; end: number }
  | { kind: "end" }
  | { kind: "meta"; start: number; end: number; next: number }
  | { kind: "statement"; start: number; end: number; next: number; copy: boolean };

const NEWLINE = 0x0a;
const COPY_FROM_STDIN = /^COPY\s[\s\S]*\sFROM\s+stdin\s*;$/i;
const TRAILERS = [DUMP_TRAILER_LINE, PG_DUMP_TRAILER_LINE].map((t) => Buffer.from(t));

/**
 * Splits a plain SQL dump into statements and COPY data as psql would, reading the stream a chunk at
 * a time: quotes, `E''` strings, quoted identifiers, dollar quotes, nested comments and
 * `BEGIN ATOMIC ... END` routine bodies never end a statement. Copy rows pass through as buffers.
 */
export class DumpReader {
  /** Whether a dump's closing line was seen (at top level, after the last statement). */
  sawTrailer = false;
  private buffer: Buffer = Buffer.alloc(0);
  private eof = false;
  private line = 1;
  private inCopy = false;
  private readonly source: AsyncIterator<Buffer | string>;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.source = source[Symbol.asyncIterator]();
  }

  async next(): Promise<DumpPiece | null> {
    if (this.inCopy) throw new Error("copyData() must be read to its end first");
    for (;;) {
      const scan = scanStatement(this.buffer, this.eof);
      switch (scan.kind) {
        case "more":
          if (this.eof) throw new DumpSyntaxError("The dump ends in the middle of a statement: it is truncated", this.line);
          await this.fill();
          continue;
        case "skip":
          this.sawTrailer ||= containsTrailer(this.buffer.subarray(0, scan.end));
          this.consume(scan.end);
          continue;
        case "end":
          this.sawTrailer ||= containsTrailer(this.buffer);
          this.consume(this.buffer.length);
          return null;
        case "meta": {
          // pg_dump writes `\unrestrict` after its closing comment.
          if (!/^\\unrestrict\b/.test(this.buffer.toString("utf8", scan.start, Math.min(scan.end, scan.start + 16)))) this.sawTrailer = false;
          const line = this.line + countNewlines(this.buffer, 0, scan.start);
          const command = this.buffer.toString("utf8", scan.start, scan.end).trim();
          this.consume(scan.next);
          return { kind: "meta", command, line };
        }
        case "statement": {
          this.sawTrailer = false;
          const line = this.line + countNewlines(this.buffer, 0, scan.start);
          const sql = this.buffer.toString("utf8", scan.start, scan.end);
          if (scan.copy) {
            this.consume(scan.next);
            this.inCopy = true;
            return { kind: "copy", sql, line };
          }
          this.consume(scan.next);
          return { kind: "statement", sql, line };
        }
      }
    }
  }

  /**
   * The rows of the COPY just returned, up to (not including) its `\.` line. Chunks need not end
   * on a row boundary (COPY does not require it), so a huge value never has to fit in one buffer.
   */
  async *copyData(): AsyncGenerator<Buffer> {
    if (!this.inCopy) return;
    const startLine = this.line;
    let atLineStart = true;
    for (;;) {
      const buffer = this.buffer;
      if (atLineStart && buffer[0] === BACKSLASH && (buffer.length < 2 || buffer[1] === DOT)) {
        const markerLength = endMarkerLength(buffer, 0);
        if (markerLength > 0 || (this.eof && buffer.length <= 3)) {
          this.consume(markerLength > 0 ? markerLength : buffer.length);
          this.inCopy = false;
          return;
        }
      } else if (buffer.length > 0) {
        const found = findEndMarker(buffer);
        if (found >= 0) {
          yield this.take(found + 1);
          atLineStart = true;
          continue;
        }
        // Hold back a last line that could still become the end marker.
        const lastNewline = buffer.lastIndexOf(NEWLINE);
        const tailStart = lastNewline + 1;
        const tail = buffer.subarray(tailStart);
        const couldBeMarker = (lastNewline >= 0 || atLineStart) && tail.length < 4 && isMarkerPrefix(tail);
        const take = couldBeMarker ? tailStart : buffer.length;
        if (take > 0) {
          const chunk = this.take(take);
          atLineStart = chunk[chunk.length - 1] === NEWLINE;
          yield chunk;
          continue;
        }
      }
      if (this.eof) {
        throw new DumpSyntaxError(`The dump ends inside the COPY data that starts at line ${startLine}: it is truncated`, this.line);
      }
      await this.fill();
    }
  }

  private take(length: number): Buffer {
    const chunk = this.buffer.subarray(0, length);
    this.consume(length);
    return chunk;
  }

  private async fill(): Promise<void> {
    const { value, done } = await this.source.next();
    if (done) {
      this.eof = true;
      return;
    }
    const chunk = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  private consume(length: number): void {
    this.line += countNewlines(this.buffer, 0, length);
    this.buffer = this.buffer.subarray(length);
  }
}

const BACKSLASH = 0x5c;
const DOT = 0x2e;

/** Whether a partial last line is the start of `\.` + line break. */
function isMarkerPrefix(tail: Buffer): boolean {
  const marker = tail[2] === 0x0d ? "\\.\r\n" : "\\.\n";
  return tail.length === 0 || Buffer.from(marker).subarray(0, tail.length).equals(tail);
}

/** Length of the `\.` line at `at` including its line break, or 0 if the line is not complete yet. */
function endMarkerLength(buffer: Buffer, at: number): number {
  if (buffer.length < at + 2 || buffer[at + 1] !== 0x2e) return 0;
  if (buffer[at + 2] === NEWLINE) return 3;
  if (buffer[at + 2] === 0x0d && buffer[at + 3] === NEWLINE) return 4;
  return 0;
}

/** Index of the newline that precedes a complete `\.` line, or -1. */
function findEndMarker(buffer: Buffer): number {
  for (let index = buffer.indexOf("\n\\.", 0); index !== -1; index = buffer.indexOf("\n\\.", index + 1)) {
    if (endMarkerLength(buffer, index + 1) > 0) return index;
  }
  return -1;
}

function countNewlines(buffer: Buffer, from: number, to: number): number {
  let count = 0;
  for (let index = buffer.indexOf(NEWLINE, from); index !== -1 && index < to; index = buffer.indexOf(NEWLINE, index + 1)) count++;
  return count;
}

function containsTrailer(text: Buffer): boolean {
  return TRAILERS.some((trailer) => {
    const at = text.lastIndexOf(trailer);
    if (at < 0 || (at > 0 && text[at - 1] !== NEWLINE)) return false;
    // Only blank lines and comments may follow the closing line.
    return text.subarray(at + trailer.length).toString().split("\n").every((line) => line.trim() === "" || line.trimStart().startsWith("--"));
  });
}

const isIdentifierByte = (byte: number | undefined) =>
  byte !== undefined && ((byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x5f || byte === 0x24 || byte >= 0x80);
const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0c;

/** Finds the end of the next statement in `buffer`, restarting from its beginning each time more text arrives. */
function scanStatement(buffer: Buffer, eof: boolean): Scan {
  let index = 0;
  const length = buffer.length;
  // Whitespace and comments before a statement.
  for (;;) {
    while (index < length && isSpace(buffer[index])) index++;
    if (index >= length) return eof ? { kind: "end" } : index > 0 ? { kind: "skip", end: index } : { kind: "more" };
    if (buffer[index] === 0x2d && buffer[index + 1] === 0x2d) {
      const newline = buffer.indexOf(NEWLINE, index);
      if (newline < 0) return eof ? { kind: "end" } : index > 0 ? { kind: "skip", end: index } : { kind: "more" };
      index = newline + 1;
      continue;
    }
    if (buffer[index] === 0x2f && buffer[index + 1] === 0x2a) {
      const end = skipBlockComment(buffer, index);
      if (end < 0) return { kind: "more" };
      index = end;
      continue;
    }
    break;
  }
  if (index > 0) return { kind: "skip", end: index };
  if (buffer[0] === 0x5c) {
    const newline = buffer.indexOf(NEWLINE);
    if (newline < 0 && !eof) return { kind: "more" };
    const end = newline < 0 ? length : newline;
    return { kind: "meta", start: 0, end, next: newline < 0 ? length : newline + 1 };
  }

  let parenDepth = 0;
  let atomicDepth = 0;
  let words = 0;
  let isRoutine = false;
  let previousWord = "";
  while (index < length) {
    const byte = buffer[index]!;
    if (byte === 0x27) {
      // '...' or E'...': an E prefix allows backslash escapes.
      const escapes = (buffer[index - 1] === 0x45 || buffer[index - 1] === 0x65) && !isIdentifierByte(buffer[index - 2]);
      const end = skipQuoted(buffer, index, 0x27, escapes);
      if (end < 0) return { kind: "more" };
      index = end;
      continue;
    }
    if (byte === 0x22) {
      const end = skipQuoted(buffer, index, 0x22, false);
      if (end < 0) return { kind: "more" };
      index = end;
      continue;
    }
    if (byte === 0x2d && buffer[index + 1] === 0x2d) {
      const newline = buffer.indexOf(NEWLINE, index);
      if (newline < 0) return { kind: "more" };
      index = newline + 1;
      continue;
    }
    if (byte === 0x2f && buffer[index + 1] === 0x2a) {
      const end = skipBlockComment(buffer, index);
      if (end < 0) return { kind: "more" };
      index = end;
      continue;
    }
    if (byte === 0x24 && !isIdentifierByte(buffer[index - 1])) {
      const tagEnd = dollarTagEnd(buffer, index);
      if (tagEnd === -2) return { kind: "more" };
      if (tagEnd > 0) {
        const tag = buffer.subarray(index, tagEnd);
        const close = buffer.indexOf(tag, tagEnd);
        if (close < 0) return { kind: "more" };
        index = close + tag.length;
        continue;
      }
    }
    if (byte === 0x28) parenDepth++;
    else if (byte === 0x29) parenDepth--;
    else if (byte === 0x3b && atomicDepth === 0) {
      const end = index + 1;
      const statement = buffer.toString("utf8", 0, end);
      const copy = COPY_FROM_STDIN.test(statement);
      if (!copy) return { kind: "statement", start: 0, end, next: end, copy };
      // COPY rows start on the line after the statement.
      const newline = buffer.indexOf(NEWLINE, end);
      if (newline < 0) return eof ? { kind: "statement", start: 0, end, next: length, copy } : { kind: "more" };
      return { kind: "statement", start: 0, end, next: newline + 1, copy };
    } else if (isIdentifierByte(byte) && !(byte >= 0x30 && byte <= 0x39) && byte !== 0x24) {
      let end = index + 1;
      while (end < length && isIdentifierByte(buffer[end])) end++;
      if (end >= length && !eof) return { kind: "more" };
      const word = buffer.toString("latin1", index, end).toUpperCase();
      words++;
      if (words <= 4 && (word === "FUNCTION" || word === "PROCEDURE") && previousWord !== "" && isCreateStatement(buffer)) isRoutine = true;
      if (isRoutine && parenDepth === 0) {
        if (atomicDepth === 0 && word === "ATOMIC" && previousWord === "BEGIN") atomicDepth = 1;
        else if (atomicDepth > 0 && word === "CASE") atomicDepth++;
        else if (atomicDepth > 0 && word === "END") atomicDepth--;
      }
      previousWord = word;
      index = end;
      continue;
    }
    index++;
  }
  return { kind: "more" };
}

function isCreateStatement(buffer: Buffer): boolean {
  return /^CREATE\s/i.test(buffer.toString("latin1", 0, 7));
}

/** End index (after the closing quote) of a quoted token at `start`, or -1 if not complete yet. */
function skipQuoted(buffer: Buffer, start: number, quote: number, backslashEscapes: boolean): number {
  let index = start + 1;
  while (index < buffer.length) {
    const byte = buffer[index]!;
    if (backslashEscapes && byte === 0x5c) {
      index += 2;
      continue;
    }
    if (byte === quote) {
      if (buffer[index + 1] === quote) {
        index += 2;
        continue;
      }
      if (index + 1 >= buffer.length) return -1;
      return index + 1;
    }
    index++;
  }
  return -1;
}

function skipBlockComment(buffer: Buffer, start: number): number {
  let depth = 0;
  let index = start;
  while (index < buffer.length - 1) {
    if (buffer[index] === 0x2f && buffer[index + 1] === 0x2a) {
      depth++;
      index += 2;
    } else if (buffer[index] === 0x2a && buffer[index + 1] === 0x2f) {
      depth--;
      index += 2;
      if (depth === 0) return index;
    } else index++;
  }
  return -1;
}

/** End of a `$tag$` opener at `start`: > 0 if it is one, -1 if not, -2 if more text is needed to tell. */
function dollarTagEnd(buffer: Buffer, start: number): number {
  let index = start + 1;
  if (index >= buffer.length) return -2;
  if (buffer[index] === 0x24) return index + 1;
  const first = buffer[index]!;
  if (!((first >= 0x61 && first <= 0x7a) || (first >= 0x41 && first <= 0x5a) || first === 0x5f || first >= 0x80)) return -1;
  while (index < buffer.length) {
    const byte = buffer[index]!;
    if (byte === 0x24) return index + 1;
    if (!isIdentifierByte(byte) || byte === 0x24) return -1;
    index++;
  }
  return -2;
}
