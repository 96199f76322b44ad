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

/** A file the walk saw but that could not be read when it was archived. */
export interface SkippedEntry {
  name: string;
  reason: string;
}

/** Where archive bytes go: a local temp file or staged blob blocks. Writes are awaited in order. */
export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
}

export interface ArchiveProgress {
  files: number;
  bytesIn: number;
  bytesOut: number;
}
