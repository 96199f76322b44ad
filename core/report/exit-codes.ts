import type { ErrorCode } from "../errors.js";
import type { BackupStatus } from "../format/manifest.js";

/**
 * The exit codes of every command, in the CLI and the Action alike (README:
 * "Exit codes"): a script tells a retryable outage (10, 75) from a mistake
 * to fix (2, 11, 12) from a failed run (1).
 */
export const ExitCode = {
  ok: 0,
  /** The operation ran and failed (a `Failed` backup, a failed restore). */
  failed: 1,
  /** Nothing was done: the command line or the configuration is wrong. */
  usage: 2,
  /** The backup finished but some files could not be read (`PartiallySucceeded`). */
  partial: 3,
  /** `verify` found a difference between the manifest and the zip. */
  mismatch: 4,
  /** The storage could not be reached (network, DNS, timeout, service busy): worth retrying. */
  storageUnreachable: 10,
  /** The storage refused the credentials or their permissions (expired or read-only SAS, wrong key, missing role). */
  storageRefused: 11,
  /** The backup (or the container) named does not exist. */
  notFound: 12,
  /** A remote home (SFTP server, App Service's Kudu site) could not be reached or the connection was lost: worth retrying. */
  homeUnreachable: 13,
  /** A remote home refused the login, or its host key is not the one known. */
  homeRefused: 14,
  /** Another run holds the app's lock or the backup's name; nothing was done: worth retrying. */
  locked: 75,
  /** Stopped by SIGINT or SIGTERM; nothing half-done is left looking complete. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The table `--help` and the README print: each code with what it means. */
export const exitCodeTable: ReadonlyArray<{ code: ExitCodeValue; meaning: string }> = [
  { code: ExitCode.ok, meaning: "succeeded" },
  { code: ExitCode.failed, meaning: "the backup, restore or other operation ran and failed" },
  { code: ExitCode.usage, meaning: "usage or configuration error: nothing was done" },
  { code: ExitCode.partial, meaning: "partially succeeded: some files could not be read" },
  { code: ExitCode.mismatch, meaning: "verify found differences between the manifest and the zip" },
  { code: ExitCode.storageUnreachable, meaning: "storage unreachable (retryable)" },
  { code: ExitCode.storageRefused, meaning: "storage refused the credentials or permissions" },
  { code: ExitCode.notFound, meaning: "backup (or container) not found" },
  { code: ExitCode.homeUnreachable, meaning: "remote home unreachable or connection lost (retryable)" },
  { code: ExitCode.homeRefused, meaning: "remote home refused the login or its host key is unknown" },
  { code: ExitCode.locked, meaning: "locked by another run (retryable)" },
  { code: ExitCode.interrupted, meaning: "interrupted (SIGINT/SIGTERM)" },
];

const codeOfError: Partial<Record<ErrorCode, ExitCodeValue>> = {
  CONFIG_INVALID: ExitCode.usage,
  CONFIG_UNREADABLE: ExitCode.usage,
  HOME_MISSING: ExitCode.usage,
  FILTER_INVALID: ExitCode.usage,
  SIZE_LIMIT: ExitCode.usage,
  USAGE: ExitCode.usage,
  ARCHIVE_HOSTILE: ExitCode.usage,
  BACKUP_NOT_RESTORABLE: ExitCode.usage,
  STORAGE_UNREACHABLE: ExitCode.storageUnreachable,
  STORAGE_AUTH: ExitCode.storageRefused,
  STORAGE_NOT_FOUND: ExitCode.notFound,
  HOME_UNREACHABLE: ExitCode.homeUnreachable,
  HOME_REFUSED: ExitCode.homeRefused,
  BACKUP_NOT_FOUND: ExitCode.notFound,
  LOCKED: ExitCode.locked,
  INTERRUPTED: ExitCode.interrupted,
};

/** The exit code of a run that stopped with an error of this code (any other error: 1). */
export function exitCodeForError(code: ErrorCode | undefined): ExitCodeValue {
  return (code && codeOfError[code]) ?? ExitCode.failed;
}

/**
 * The exit code of a backup that ran to its end with this status. A `Failed`
 * backup whose storage or remote home could not be reached or refused it
 * (`errorCode`, its result's) exits as that error would: a script retries the
 * one, fixes the other.
 */
export function exitCodeForStatus(status: BackupStatus, errorCode?: ErrorCode): ExitCodeValue {
  if (status === "Succeeded") return ExitCode.ok;
  if (status === "PartiallySucceeded") return ExitCode.partial;
  const code = exitCodeForError(errorCode);
  const reach: ExitCodeValue[] = [ExitCode.storageUnreachable, ExitCode.storageRefused, ExitCode.homeUnreachable, ExitCode.homeRefused];
  return reach.includes(code) ? code : ExitCode.failed;
}
