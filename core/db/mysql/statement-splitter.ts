/**
 * Splits a MySQL script into statements the way the `mariadb` client does: the delimiter
 * (`;` unless a `DELIMITER` line changes it) ends a statement only outside quotes,
 * backquotes and comments. Text is fed in chunks of any size; memory stays bounded by the
 * largest statement.
 */
export class StatementSplitter {
  private pending = "";
  /** Where scanning resumes in `pending`; everything before it is inside the current statement. */
  private scanned = 0;
  private state: "code" | "single" | "double" | "backtick" | "line-comment" | "block-comment" = "code";
  private delimiter = ";";
  /** Whether the statement so far holds anything but whitespace and comments. */
  private hasCode = false;
  private line = 1;
  private commentsAfterStatement = "";
  private statementLine = 1;

  /** Adds text; returns the statements it completed. */
  push(text: string): SplitStatement[] {
    this.pending += text;
    const statements: SplitStatement[] = [];
    this.scan(statements, false);
    return statements;
  }

  /** Ends the input; returns a last statement without delimiter, if any, and the text left over. */
  end(): { statements: SplitStatement[]; trailingText: string; unterminated: string | undefined } {
    const statements: SplitStatement[] = [];
    this.scan(statements, true);
    const trailingText = this.commentsAfterStatement + this.pending;
    let unterminated: string | undefined;
    if (this.state === "single" || this.state === "double" || this.state === "backtick") unterminated = `a ${this.state === "backtick" ? "backquoted name" : "quoted string"}`;
    else if (this.state === "block-comment") unterminated = "a /* comment */";
    else if (this.hasCode) unterminated = `a statement (no "${this.delimiter}" at its end)`;
    return { statements, trailingText, unterminated };
  }

  private scan(statements: SplitStatement[], atEnd: boolean): void {
    const text = this.pending;
    let index = this.scanned;
    let statementStart = 0;
    const length = text.length;
    while (index < length) {
      const char = text.charCodeAt(index);
      switch (this.state) {
        case "single":
        case "double":
        case "backtick": {
          const quote = this.state === "single" ? 0x27 : this.state === "double" ? 0x22 : 0x60;
          // Jump to the next quote or backslash: quoted data is most of a dump.
          let next = index;
          while (next < length) {
            const c = text.charCodeAt(next);
            if (c === quote || (c === 0x5c && quote !== 0x60)) break;
            if (c === 0x0a) this.line++;
            next++;
          }
          if (next >= length) {
            index = length;
            break;
          }
          if (text.charCodeAt(next) === 0x5c) {
            if (next + 1 >= length && !atEnd) {
              index = next;
              this.keepPartial(statementStart, index);
              return;
            }
            if (text.charCodeAt(next + 1) === 0x0a) this.line++;
            index = next + 2;
            break;
          }
          this.state = "code";
          index = next + 1;
          break;
        }
        case "line-comment": {
          const newline = text.indexOf("\n", index);
          if (newline < 0) {
            index = length;
            break;
          }
          this.line++;
          this.state = "code";
          // Comments before a statement are not part of it; the ones after the last statement are kept for end().
          if (!this.hasCode) {
            this.commentsAfterStatement += text.slice(statementStart, newline + 1);
            statementStart = newline + 1;
          }
          index = newline + 1;
          break;
        }
        case "block-comment": {
          const close = text.indexOf("*/", index);
          if (close < 0) {
            // Keep the last character: it may be the "*" of a "*/" split across chunks.
            const resumeAt = atEnd ? length : Math.max(index, length - 1);
            for (let i = index; i < resumeAt; i++) if (text.charCodeAt(i) === 0x0a) this.line++;
            index = resumeAt;
            if (!atEnd) {
              this.keepPartial(statementStart, index);
              return;
            }
            index = length;
            break;
          }
          for (let i = index; i < close; i++) if (text.charCodeAt(i) === 0x0a) this.line++;
          this.state = "code";
          index = close + 2;
          if (!this.hasCode) statementStart = index;
          break;
        }
        default: {
          if (!this.hasCode) {
            // A client command is only recognised where a statement starts.
            if (char === 0x0a) this.line++;
            if (char === 0x20 || char === 0x09 || char === 0x0a || char === 0x0d) {
              index++;
              break;
            }
            if ((char === 0x44 || char === 0x64) && !atEnd && length - index < 10 && "delimiter".startsWith(text.slice(index, index + 9).toLowerCase())) {
              this.keepPartial(statementStart, index);
              return;
            }
            if ((char === 0x44 || char === 0x64) && startsWithDelimiterCommand(text, index)) {
              const newline = text.indexOf("\n", index);
              if (newline < 0 && !atEnd) {
                this.keepPartial(statementStart, index);
                return;
              }
              const lineEnd = newline < 0 ? length : newline;
              const value = text.slice(index + "delimiter".length, lineEnd).trim();
              if (value === "") throw new Error(`line ${this.line}: DELIMITER needs a value`);
              this.delimiter = value.split(/\s+/)[0]!;
              this.line++;
              index = lineEnd + 1;
              statementStart = index;
              break;
            }
          }
          if (char === 0x27) {
            this.state = "single";
          } else if (char === 0x22) {
            this.state = "double";
          } else if (char === 0x60) {
            this.state = "backtick";
          } else if (char === 0x23) {
            this.state = "line-comment";
            index++;
            break;
          } else if (char === 0x2d && text.charCodeAt(index + 1) === 0x2d) {
            if (index + 2 >= length && !atEnd) {
              this.keepPartial(statementStart, index);
              return;
            }
            const after = text.charCodeAt(index + 2);
            if (index + 2 >= length || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d) {
              this.state = "line-comment";
              index += 2;
              break;
            }
          } else if (char === 0x2f && text.charCodeAt(index + 1) === 0x2a) {
            // `/*!50003 ... */` is code the server runs; plain `/* */` is a comment.
            const bang = text.charCodeAt(index + 2);
            if (index + 2 >= length && !atEnd) {
              this.keepPartial(statementStart, index);
              return;
            }
            if ((bang === 0x21 || bang === 0x4d) && !this.hasCode) {
              this.hasCode = true;
              this.statementLine = this.line;
            }
            this.state = "block-comment";
            index += 2;
            break;
          } else if ((char === 0x2f || char === 0x2d) && index + 1 >= length && !atEnd) {
            this.keepPartial(statementStart, index);
            return;
          }
          if (char === this.delimiter.charCodeAt(0) && text.startsWith(this.delimiter, index)) {
            if (this.hasCode) {
              statements.push({ text: text.slice(statementStart, index).trim(), line: this.statementLine });
              this.commentsAfterStatement = "";
            }
            index += this.delimiter.length;
            statementStart = index;
            this.hasCode = false;
            this.statementLine = this.line;
            break;
          }
          if (char === 0x0a) this.line++;
          else if (!this.hasCode && char !== 0x0d) {
            this.hasCode = true;
            this.statementLine = this.line;
          }
          if (this.delimiter.length > 1 && index + this.delimiter.length > length && !atEnd && this.delimiter.startsWith(text.slice(index, length))) {
            this.keepPartial(statementStart, index);
            return;
          }
          index++;
        }
      }
    }
    this.pending = text.slice(statementStart);
    this.scanned = index - statementStart;
  }

  /** Keeps the unfinished statement and resumes at `index` when more text arrives. */
  private keepPartial(statementStart: number, index: number): void {
    this.pending = this.pending.slice(statementStart);
    this.scanned = index - statementStart;
  }
}

export interface SplitStatement {
  text: string;
  /** Line of the dump where the statement starts, for error messages. */
  line: number;
}

function startsWithDelimiterCommand(text: string, index: number): boolean {
  return text.slice(index, index + 9).toLowerCase() === "delimiter" && (index + 9 === text.length || /\s/.test(text[index + 9]!));
}
