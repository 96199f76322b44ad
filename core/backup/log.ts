import type { Redactor } from "../secrets.js";

export type LogLevel = "info" | "warning" | "error";

export interface LogLine {
  time: Date;
  level: LogLevel;
  message: string;
}

/**
 * The `{backupName}.log` of a backup: every line redacted when written, so no
 * credential can reach the stored log or a listener.
 */
export class BackupLog {
  readonly lines: LogLine[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly listener?: (line: LogLine) => void,
  ) {}

  info(message: string): void {
    this.add("info", message);
  }

  warning(message: string): void {
    this.add("warning", message);
  }

  error(message: string): void {
    this.add("error", message);
  }

  get warnings(): string[] {
    return this.lines.filter((l) => l.level === "warning").map((l) => l.message);
  }

  toString(): string {
    return this.lines.map((l) => `${l.time.toISOString()} ${l.level.toUpperCase().padEnd(7)} ${l.message}`).join("\n") + "\n";
  }

  private add(level: LogLevel, message: string): void {
    const line = { time: new Date(), level, message: this.redactor.redact(message) };
    this.lines.push(line);
    this.listener?.(line);
  }
}
