import { IN_MEMORY_ENTRY_BYTES } from "./extract-protocol.js";
import type { ExtractItem } from "./extract-request.js";
import { LOCAL_HEADER_SIZE } from "./zip-format.js";
import type { ZipIndex } from "./zip-index.js";

/** A run of small entries read in one range and handed to one worker. */
export interface BatchJob {
  kind: "batch";
  start: number;
  end: number;
  items: ExtractItem[];
  /** Where each item's bytes must end. */
  limits: number[];
}

/** One entry too large to hold whole: streamed to a worker in chunks. */
export interface LargeJob {
  kind: "large";
  item: ExtractItem;
  limit: number;
}

export type ExtractJob = BatchJob | LargeJob;

const MAX_BATCH_ITEMS = 2000;
/** A local header with the longest name and extra field its 16-bit lengths allow. */
const MAX_LOCAL_HEADER_BYTES = LOCAL_HEADER_SIZE + 2 * 0xffff;
/** Bytes between two entries (folder entries, descriptors) read along rather than splitting a batch. */
const MAX_BATCH_GAP = 64 * 1024;

/**
 * Jobs in archive order: runs of small entries as batches (one read each),
 * large entries alone. Each entry's bytes must end where the next entry of
 * the archive (or the central directory) begins.
 */
export function planJobs(items: readonly ExtractItem[], zip: ZipIndex, largeEntryBytes: number, batchBytes: number): ExtractJob[] {
  const { table } = zip;
  const offsets = table.offsets.slice(0, table.count).sort();
  const sorted = [...items].sort((a, b) => table.offsets[a.zipIndex]! - table.offsets[b.zipIndex]!);
  const jobs: ExtractJob[] = [];
  let batch: BatchJob | undefined;
  let next = 0;
  for (const item of sorted) {
    const start = table.offsets[item.zipIndex]!;
    while (next < offsets.length && offsets[next]! <= start) next++;
    const limit = next < offsets.length ? offsets[next]! : zip.dataLimit;
    const compressedSize = table.compressedSizes[item.zipIndex]!;
    if (compressedSize > largeEntryBytes || table.sizes[item.zipIndex]! > IN_MEMORY_ENTRY_BYTES) {
      batch = undefined;
      jobs.push({ kind: "large", item, limit });
      continue;
    }
    // A batch reads its entries whole: bytes between an entry's data and the next entry are not its own to read.
    const batchLimit = Math.min(limit, start + MAX_LOCAL_HEADER_BYTES + compressedSize);
    if (!batch || start - batch.end > MAX_BATCH_GAP || batchLimit - batch.start > batchBytes || batch.items.length >= MAX_BATCH_ITEMS || start < batch.end) {
      batch = { kind: "batch", start, end: batchLimit, items: [], limits: [] };
      jobs.push(batch);
    }
    batch.items.push(item);
    batch.limits.push(batchLimit);
    batch.end = batchLimit;
  }
  return jobs;
}
