import { existsSync, mkdirSync, readFileSync, statfsSync } from "node:fs";
import path from "node:path";

const TMPFS_MAGIC = 0x01021994;
const GB = 1e9;

/** The nearest existing folder of `dir` (the one statfs can ask about before `dir` is made). */
function existingAncestor(dir) {
  let current = path.resolve(dir);
  while (!existsSync(current)) current = path.dirname(current);
  return current;
}

/** Memory the kernel could hand out now (MemAvailable): what a tmpfs can really still take. */
function availableMemoryBytes() {
  const line = readFileSync("/proc/meminfo", "utf8").match(/^MemAvailable:\s+(\d+) kB/m);
  return line ? Number(line[1]) * 1024 : Infinity;
}

/**
 * Says whether `needs` ([{ dir, bytes, files }]) fit: free bytes and inodes of each folder's file
 * system, and for a tmpfs the memory it would take too (keeping `memoryReserve` for everything
 * else). Returns { ok, lines } with one line per file system saying what is needed and what is free.
 */
export function checkRoom(needs, { memoryReserve = 2 * GB } = {}) {
  const byDevice = new Map();
  for (const need of needs) {
    mkdirSync(path.dirname(path.resolve(need.dir)), { recursive: true });
    const at = existingAncestor(need.dir);
    const stats = statfsSync(at);
    const key = `${stats.type}:${stats.blocks}:${stats.files}`;
    const entry = byDevice.get(key) ?? { at, stats, bytes: 0, files: 0, dirs: [] };
    entry.bytes += need.bytes;
    entry.files += need.files ?? 0;
    entry.dirs.push(need.dir);
    byDevice.set(key, entry);
  }
  let ok = true;
  const lines = [];
  let tmpfsBytes = 0;
  for (const { stats, bytes, files, dirs } of byDevice.values()) {
    const free = stats.bavail * stats.bsize;
    const fits = bytes <= free && files <= stats.ffree;
    ok &&= fits;
    if (stats.type === TMPFS_MAGIC) tmpfsBytes += bytes;
    lines.push(`${dirs.join(" + ")}: needs ${(bytes / GB).toFixed(1)} GB and ${files.toLocaleString("en")} inodes; free ${(free / GB).toFixed(1)} GB and ${stats.ffree.toLocaleString("en")} inodes${fits ? "" : " (too little)"}`);
  }
  if (tmpfsBytes > 0) {
    const available = availableMemoryBytes();
    const fits = tmpfsBytes + memoryReserve <= available;
    ok &&= fits;
    lines.push(`tmpfs takes memory: needs ${(tmpfsBytes / GB).toFixed(1)} GB + ${(memoryReserve / GB).toFixed(0)} GB to spare; available ${(available / GB).toFixed(1)} GB${fits ? "" : " (too little)"}`);
  }
  return { ok, lines };
}
