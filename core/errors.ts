/**
 * An error the user can act on: `message` says what is wrong, `hint` what to do.
 * Messages never contain credentials; callers redact before constructing one.
 */
export class AppBackupError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AppBackupError";
  }

  /** The message and the hint, as printed by the CLI and the Action. */
  describe(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
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
