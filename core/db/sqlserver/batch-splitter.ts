/**
 * Splits a script into batches at `GO` lines, as sqlcmd does (a line holding only GO,
 * optionally with a repeat count and a trailing comment). Text is fed in chunks; memory
 * stays bounded by the largest batch.
 */
export class GoBatchSplitter {
  private pending = "";
  private lines: string[] = [];
  private lineNumber = 0;
  private batchStartLine = 1;

  push(text: string): ScriptBatch[] {
    this.pending += text;
    const batches: ScriptBatch[] = [];
    let newline = this.pending.indexOf("\n");
    let start = 0;
    while (newline >= 0) {
      this.takeLine(this.pending.slice(start, newline), batches);
      start = newline + 1;
      newline = this.pending.indexOf("\n", start);
    }
    this.pending = this.pending.slice(start);
    return batches;
  }

  /** Ends the input; `trailingText` is what follows the last GO (the completion marker, if any). */
  end(): { batches: ScriptBatch[]; trailingText: string } {
    const batches: ScriptBatch[] = [];
    if (this.pending !== "") this.takeLine(this.pending, batches);
    this.pending = "";
    const trailingText = this.lines.join("\n");
    const unfinished = this.lines.filter((line) => line.trim() !== "" && !line.trim().startsWith("--"));
    if (unfinished.length > 0) batches.push({ text: this.lines.join("\n").trim(), line: this.batchStartLine, repeat: 1, terminated: false });
    this.lines = [];
    return { batches, trailingText };
  }

  private takeLine(rawLine: string, batches: ScriptBatch[]): void {
    this.lineNumber++;
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    const go = /^\s*go(?:\s+(\d+))?\s*(?:--.*)?$/i.exec(line);
    if (!go) {
      this.lines.push(line);
      return;
    }
    const text = this.lines.join("\n").trim();
    if (text !== "" && !/^(--[^\n]*\n?\s*)*$/.test(text)) {
      batches.push({ text, line: this.batchStartLine, repeat: go[1] ? Number(go[1]) : 1, terminated: true });
    }
    this.lines = [];
    this.batchStartLine = this.lineNumber + 1;
  }
}

export interface ScriptBatch {
  text: string;
  /** Line of the script where the batch starts. */
  line: number;
  /** `GO n` runs the batch n times. */
  repeat: number;
  /** False for text after the last GO: sqlcmd would run it, but in a dump it means the file was cut. */
  terminated: boolean;
}
