import { AppBackupError } from "../errors.js";

/** The uncompressed content of the archive would pass the configured limit. */
export class SizeLimitExceededError extends Error {
  override readonly name = "SizeLimitExceededError";
  constructor(
    readonly limitBytes: number,
    readonly seenBytes: number,
  ) {
    super(`The content to archive reached ${seenBytes} bytes, over the limit of ${limitBytes} bytes.`);
  }
}

/** The archive was stopped with `abort()` or its abort signal before it was finished. */
export class ArchiveAbortedError extends Error {
  override readonly name = "ArchiveAbortedError";
  constructor(reason?: unknown) {
    super(reason instanceof Error ? `The archive was aborted: ${reason.message}` : "The archive was aborted before it was finished.");
  }
}

/**
 * A zip that cannot be read: truncated, corrupt, or using features this reader
 * does not support. Readers stop at it before using anything the zip says.
 */
export class ZipFormatError extends AppBackupError {
  override readonly name = "ZipFormatError";
  constructor(message: string) {
    super("BACKUP_CORRUPT", message, "Nothing was read from the zip or written. It is damaged or was not written by app-backup; use another backup.");
  }
}

/** A zip that cannot be read as one: every such message starts alike, wherever in the archive the fault was found. */
export function corruptZip(detail: string): ZipFormatError {
  return new ZipFormatError(`Not a valid zip archive: ${detail}.`);
}

/** An entry name in a message: quoted and escaped, as a hostile name may hold control characters or be kilobytes long. */
export function quotedName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}
