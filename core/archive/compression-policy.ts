/**
 * Which entries are deflated, and how hard. Media, archives and fonts are
 * already compressed: deflating them costs CPU for nothing, so they are stored.
 * PDF is left to detection: some are mostly text, some mostly images.
 */
const STORED_EXTENSIONS = new Set([
  "jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "ico",
  "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "br", "lz4", "lzma",
  "woff", "woff2",
  "mp3", "mp4", "m4a", "m4v", "mov", "webm", "ogg", "oga", "ogv", "opus", "flac", "aac", "mkv", "avi",
  "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "jar", "war", "apk", "nupkg", "whl",
]);

/** Whether the file name alone says the content is already compressed. */
export function isStoredByName(name: string): boolean {
  const dot = name.lastIndexOf(".");
  if (dot < 0 || dot < name.lastIndexOf("/")) return false;
  return STORED_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/**
 * Level 4 of the zlib bundled with Node. Measured on a project's node_modules
 * (141 MB, deflated file by file), output vs level 6: level 2 +9.9 %, 3 +8.1 %,
 * 4 +3.5 %, 5 +0.8 %; CPU time vs level 2: 4 x1.4, 5 x1.9, 6 x2.6. Level 4 is
 * the first of zlib's lazy-matching levels: it keeps the archive within a few
 * percent of `zip -6` at little more than half the CPU, which the workers
 * share out over the cores.
 */
export const DEFAULT_LEVEL = 4;

/**
 * Files up to this size are deflated by libdeflate at level 1 whatever the
 * level. Its levels 2 and up set up match-finding tables of some 100 KB for
 * each call, which for a file of a few KB costs as much as compressing it.
 * Measured on a project's node_modules, files of at most 4 KiB (34,151 files,
 * 39 MB): 16.1 µs a file at level 1 against 23.4 µs at level 4, for 1.2 %
 * more output on them (under 0.1 % of the whole archive); on generated 1-4 KB
 * text and JSON files, 19.5 µs against 36.8 µs, for 1.6 % more.
 */
export const FASTEST_LEVEL_LIMIT = 4096;

/** The libdeflate level a file of `size` bytes is deflated at, for the archive's `level`. */
export function libdeflateLevelFor(size: number, level: number): number {
  return size <= FASTEST_LEVEL_LIMIT ? Math.min(level, 1) : level;
}

/** Deflated output must save at least this share of the input, or the entry is stored. */
export const MIN_SAVING = 0.02;

/** Files up to this size are read and deflated whole, many per worker message. */
export const WHOLE_FILE_LIMIT = 1024 * 1024;

/** Whether a file of `size` bytes is read in chunks, each deflated as a block by whichever worker is free. */
export function isLargeFile(size: number): boolean {
  return size > WHOLE_FILE_LIMIT;
}

/** Larger files and streams are read and deflated in blocks of this size, with a fixed number in flight. */
export const CHUNK_SIZE = 1024 * 1024;

/** Bytes of a large file's first chunk deflated as a sample to decide whether to store it. */
export const SAMPLE_SIZE = 128 * 1024;
