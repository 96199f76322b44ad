/** One entry as written into the zip and recorded in the manifest. */
export interface ArchiveEntry {
  /** Path inside the zip, `/`-separated; directories end with `/`. */
  name: string;
  kind: "file" | "directory" | "symlink";
  /** Uncompressed size in bytes (for a symlink: the byte length of its target). */
  size: number;
  compressedSize: number;
  method: "deflate" | "store";
  crc32: number;
  /** Hex SHA-256 of the uncompressed content (of the target text for a symlink, of nothing for a directory). */
  sha256: string;
  mtime: Date;
  /** Unix mode including the file-type bits (S_IFREG, S_IFDIR, S_IFLNK). */
  mode: number;
  /** Symlink target exactly as read with readlink. */
  linkTarget?: string;
}

/**
 * Entries read one at a time: an archive's list is kept compact and each
 * `ArchiveEntry` is built as it is visited, so a list of hundreds of thousands
 * costs no more than its columns. Arrays of entries are entry lists too.
 */
export interface EntryList extends Iterable<ArchiveEntry> {
  readonly length: number;
}

/** A file the walk saw but that could not be read when it was archived. */
export interface SkippedEntry {
  name: string;
  reason: string;
}

/** Where archive bytes go: a local temp file or staged blob blocks. Writes are awaited in order. */
export interface ByteSink {
  /**
   * The chunk is lent until the returned promise settles, then reused by the
   * writer: a sink that keeps bytes for later copies them.
   */
  write(chunk: Buffer): Promise<void>;
}

export interface ArchiveProgress {
  files: number;
  bytesIn: number;
  bytesOut: number;
}
