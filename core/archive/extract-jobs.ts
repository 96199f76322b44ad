import type { EntryTable } from "./entry-table.js";
import { IN_MEMORY_ENTRY_BYTES, type EntryDescription } from "./extract-protocol.js";
import type { ExtractItem } from "./extract-request.js";
import { describeItems, type PlacedItem } from "./worker-entries.js";
import { LOCAL_HEADER_SIZE } from "./zip-format.js";
import { inZipOrder as inDataOrder, zipOrder, type ZipIndex } from "./zip-index.js";

/**
 * A run of small entries read in one range and handed to one worker. It is
 * described for the worker as soon as it is complete, and keeps only rows of
 * its entries, not their items: a batch of tiny entries is thousands of items,
 * and several batches wait for a worker at once.
 */
export interface BatchJob {
  kind: "batch";
  start: number;
  end: number;
  described: EntryDescription;
  /** Each entry's row in the zip index. */
  zipRows: Uint32Array;
  /** Each entry's row in the manifest, which names it. */
  digestRows: Uint32Array;
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
 * Jobs in archive order, made as the items come (a batch is handed out once
 * the next item does not fit in it): runs of small entries as batches (one
 * read each), large entries alone. Each entry's bytes must end where the next
 * entry of the archive (or the central directory) begins. Items must come in
 * ascending zip offset: one that does not is a caller's bug, and throws.
 */
export function* planJobs(items: Iterable<ExtractItem>, zip: ZipIndex, digests: EntryTable, largeEntryBytes: number, batchBytes: number): Generator<ExtractJob> {
  const { table } = zip;
  const order = dataOrder(zip);
  const rowAt = (position: number) => (order ? order[position]! : position);
  /** The batch being filled: its items are let go once it is described. */
  let batch: { start: number; end: number; placed: PlacedItem[] } | undefined;
  /** The first row in data order whose entry starts after the current item: where the item's bytes must end. */
  let next = 0;
  let previous: ExtractItem | undefined;
  for (const item of items) {
    const start = table.offsets[item.zipIndex]!;
    if (previous && start < table.offsets[previous.zipIndex]!) {
      throw new Error(`Entries to extract must come in zip order: ${item.name} (at offset ${start}) came after ${previous.name} (at offset ${table.offsets[previous.zipIndex]}).`);
    }
    previous = item;
    while (next < table.count && table.offsets[rowAt(next)]! <= start) next++;
    const limit = next < table.count ? table.offsets[rowAt(next)]! : zip.dataLimit;
    const compressedSize = table.compressedSizes[item.zipIndex]!;
    if (compressedSize > largeEntryBytes || table.sizes[item.zipIndex]! > IN_MEMORY_ENTRY_BYTES) {
      if (batch) yield describeBatch(batch, table, digests);
      batch = undefined;
      yield { kind: "large", item, limit };
      continue;
    }
    // A batch reads its entries whole: bytes between an entry's data and the next entry are not its own to read.
    const batchLimit = Math.min(limit, start + MAX_LOCAL_HEADER_BYTES + compressedSize);
    if (!batch || start - batch.end > MAX_BATCH_GAP || batchLimit - batch.start > batchBytes || batch.placed.length >= MAX_BATCH_ITEMS || start < batch.end) {
      if (batch) yield describeBatch(batch, table, digests);
      batch = { start, end: batchLimit, placed: [] };
    }
    batch.placed.push({ item, at: start - batch.start, limit: batchLimit - batch.start });
    batch.end = batchLimit;
  }
  if (batch) yield describeBatch(batch, table, digests);
}

function describeBatch(batch: { start: number; end: number; placed: readonly PlacedItem[] }, table: ZipIndex["table"], digests: EntryTable): BatchJob {
  const { placed } = batch;
  const zipRows = new Uint32Array(placed.length);
  const digestRows = new Uint32Array(placed.length);
  placed.forEach(({ item }, index) => {
    zipRows[index] = item.zipIndex;
    digestRows[index] = item.digestIndex;
  });
  return { kind: "batch", start: batch.start, end: batch.end, described: describeItems(table, digests, placed), zipRows, digestRows };
}

const dataOrders = new WeakMap<ZipIndex, { order: Uint32Array | undefined }>();

/**
 * The zip's rows in the order of their data, worked out once per zip and
 * shared by its extractions: undefined for a zip whose rows are in that order
 * already (one written in one pass), where holding 4 bytes a row would say
 * nothing.
 */
function dataOrder(zip: ZipIndex): Uint32Array | undefined {
  let known = dataOrders.get(zip);
  if (!known) dataOrders.set(zip, (known = { order: inDataOrder(zip.table) ? undefined : zipOrder(zip.table) }));
  return known.order;
}

/** The items in zip order: as they are when they already are (no copy), else a sorted copy. */
export function inZipOrder(items: readonly ExtractItem[], zip: ZipIndex): readonly ExtractItem[] {
  const { offsets } = zip.table;
  for (let index = 1; index < items.length; index++) {
    if (offsets[items[index]!.zipIndex]! < offsets[items[index - 1]!.zipIndex]!) return [...items].sort((a, b) => offsets[a.zipIndex]! - offsets[b.zipIndex]!);
  }
  return items;
}
