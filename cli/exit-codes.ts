import type { BackupStatus, ErrorCode } from "../core/index.js";

/** The CLI's documented exit codes (README: "Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** The operation ran and failed (a `Failed` backup, a failed restore). */
  failed: 1,
  /** Nothing was done: an input is wrong (configuration, home, filter, credentials, size limit, usage). */
  badInput: 2,
  /** The backup finished but some files could not be read (`PartiallySucceeded`). */
  partial: 3,
  /** `verify` found a difference between the manifest and the zip. */
  mismatch: 4,
  /** Another runner holds the app's lock; nothing was done. */
  locked: 75,
} as const;

const badInputCodes: ReadonlySet<ErrorCode> = new Set([
  "CONFIG_INVALID",
  "CONFIG_UNREADABLE",
  "HOME_MISSING",
  "FILTER_INVALID",
  "SIZE_LIMIT",
  "USAGE",
  "STORAGE_AUTH",
  "STORAGE_UNREACHABLE",
  "STORAGE_NOT_FOUND",
  "BACKUP_NOT_FOUND",
  "BACKUP_NOT_RESTORABLE",
  "ARCHIVE_HOSTILE",
]);

export function exitCodeForError(code: ErrorCode | undefined): number {
  if (code === "LOCKED") return ExitCode.locked;
  if (code && badInputCodes.has(code)) return ExitCode.badInput;
  return ExitCode.failed;
}

export function exitCodeForStatus(status: BackupStatus): number {
  if (status === "Succeeded") return ExitCode.ok;
  if (status === "PartiallySucceeded") return ExitCode.partial;
  return ExitCode.failed;
}
