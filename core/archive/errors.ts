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

/** A zip that cannot be read: truncated, corrupt, or using features this reader does not support. */
export class ZipFormatError extends Error {
  override readonly name = "ZipFormatError";
}

/** A zip that cannot be read as one: every such message starts alike, wherever in the archive the fault was found. */
export function corruptZip(detail: string): ZipFormatError {
  return new ZipFormatError(`Not a valid zip archive: ${detail}.`);
}
