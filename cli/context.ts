import { AppBackupError, isAppBackupError, loadConfig, redactorFor, Redactor, redactPatterns, type AppBackupOptions } from "../core/index.js";
import { exitCodeForError } from "./exit-codes.js";
import type { CliIo } from "./io.js";

/**
 * Output of one command run: every line passes the redactor, and with --json the
 * last stdout line is the one result object.
 */
export class CommandOutput {
  redactor = new Redactor();
  /** The configuration as the user named it, for hints that send them to another command. */
  configPath?: string;

  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Loads the configuration and teaches the redactor its secrets before anything is printed. */
  async load(configPath: string): Promise<AppBackupOptions> {
    this.configPath = configPath;
    const options = await loadConfig(configPath, this.io.env);
    this.redactor = redactorFor(options);
    return options;
  }

  /** Human text on stdout; suppressed with --json so stdout stays machine-readable. */
  print(text: string): void {
    if (!this.json) this.io.stdout.write(`${this.redactor.redact(text)}\n`);
  }

  /** Diagnostics on stderr. */
  note(text: string): void {
    this.io.stderr.write(`${this.redactor.redact(text)}\n`);
  }

  result(value: unknown): void {
    if (this.json) this.io.stdout.write(`${this.redactor.redact(JSON.stringify(value))}\n`);
  }

  /** Another command as the user would type it, with the configuration this one was given. */
  private readonly commandWithConfig = (name: string) =>
    `\`app-backup ${name}${this.configPath === undefined ? " --config FILE" : ` --config ${shellQuoted(this.configPath)}`}\``;

  /** Prints an error the user can act on and returns the exit code. */
  fail(error: unknown): number {
    const appError = isAppBackupError(error) ? error : undefined;
    const text = appError ? appError.describe(this.commandWithConfig) : `Unexpected error: ${(error as Error)?.stack ?? String(error)}`;
    const safe = redactPatterns(this.redactor.redact(text));
    this.io.stderr.write(`error: ${safe}\n`);
    if (this.json) {
      this.io.stdout.write(`${JSON.stringify({ status: "Error", error: { code: appError?.code ?? "UNEXPECTED", message: safe } })}\n`);
    }
    return exitCodeForError(appError?.code);
  }
}

/** A path as a shell takes it back: as is when it is plain, else in single quotes. */
export function shellQuoted(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

export function usageError(message: string, hint?: string): AppBackupError {
  return new AppBackupError("USAGE", message, hint);
}
