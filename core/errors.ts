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

  /** The message and the hint, as printed by the CLI and the Action. */
  describe(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
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
  | "USAGE";

export function isAppBackupError(error: unknown): error is AppBackupError {
  return error instanceof AppBackupError;
}
