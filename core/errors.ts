/**
 * An error the user can act on: `message` says what is wrong, `hint` what to do.
 * Messages never contain credentials; callers redact before constructing one.
 */
export class AppBackupError extends Error {
  /**
   * For CONFIG_INVALID: each problem at its configuration key (`backup.storage`),
   * so a front end can name its own input for the key instead of the key.
   */
  readonly issues?: ConfigIssue[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; issues?: ConfigIssue[] },
  ) {
    super(message, options);
    this.name = "AppBackupError";
    if (options?.issues) this.issues = options.issues;
  }

  /**
   * The message and the hint, as printed by the CLI and the Action; `command`
   * says how this front end runs another command (see withCommandsAs).
   */
  describe(command?: (name: string) => string): string {
    const text = this.hint ? `${this.message}\n${this.hint}` : this.message;
    return command ? withCommandsAs(text, command) : text;
  }
}

/**
 * Texts that send the user to another command write it `app-backup list --config FILE`
 * (in backticks): the engine does not know how the configuration was given,
 * so each front end says it its own way — the CLI with the path it was given,
 * the Action as an `operation:`.
 */
export function withCommandsAs(text: string, command: (name: string) => string): string {
  return text.replace(/`app-backup ([a-z-]+) --config FILE`/g, (_, name: string) => command(name));
}

/** A problem at a key of the configuration, as written in app-backup.yml: `backup.databases[0].databaseType`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export type ErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_UNREADABLE"
  | "HOME_MISSING"
  /** A remote home (SFTP, App Service) could not be reached, or the connection to it was lost (retryable). */
  | "HOME_UNREACHABLE"
  /** A remote home refused the login or its permissions, offers no SFTP, or its host key is unknown, changed or revoked. */
  | "HOME_REFUSED"
  | "FILTER_INVALID"
  | "SIZE_LIMIT"
  | "STORAGE_AUTH"
  | "STORAGE_UNREACHABLE"
  | "STORAGE_NOT_FOUND"
  | "STORAGE"
  | "DATABASE"
  | "BACKUP_NOT_FOUND"
  | "BACKUP_NOT_RESTORABLE"
  | "BACKUP_CORRUPT"
  | "ARCHIVE_HOSTILE"
  | "RESTORE"
  | "LOCKED"
  | "USAGE"
  /** Stopped by SIGINT or SIGTERM before it finished; what it staged was discarded. */
  | "INTERRUPTED";

export function isAppBackupError(error: unknown): error is AppBackupError {
  return error instanceof AppBackupError;
}
