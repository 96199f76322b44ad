import { ExtractDispatch } from "./extract-dispatch.js";
import { inZipOrder, planJobs } from "./extract-jobs.js";
import { ExtractPool, SHARED_MAIN_THREAD_ENTRIES } from "./extract-pool.js";
import { HeapKeeper } from "./heap-keeper.js";
import type { ExtractItem, ExtractOptions } from "./extract-request.js";
import type { ReusableBufferSource } from "./random-access-source.js";
import type { ZipIndex } from "./zip-index.js";

export { EntryFailure, type ExtractItem, type ExtractOptions, type ExtractProgress } from "./extract-request.js";

/** Content handed back to the caller is held whole: an entry asked for that declares more is refused unread. */
export const MAX_RETURNED_BYTES = 16 * 1024 * 1024;

/** An archive whose entries take at most this many bytes, stored and inflated, is extracted on the main thread: starting a worker would cost more. */
export const MAIN_THREAD_ARCHIVE_BYTES = 4 * 1024 * 1024;

/**
 * Reads the archive in ascending offset order, a few ranges at a time, and
 * hands the stored bytes to worker threads that inflate, check and write them
 * (on the main thread for a tiny archive, with the same code). `items` is
 * pulled lazily, a batch at a time, so a million items are never held at once;
 * it must yield them in ascending zip offset (an array is put in that order).
 * Memory stays within `maxInFlightBytes` for batches plus a few chunks per
 * large entry being streamed (one per worker at most), and within a few
 * batches per worker whatever their bytes: a batch keeps its entries' rows,
 * not their items, so the items alive at once are a few batches' worth. The first failure stops
 * everything: reads stop, no more items are pulled, and the failure is thrown
 * once the jobs already sent have answered (the caller discards what was written).
 *
 * Resolves to the content of the entries that asked for it, by entry name.
 */
export async function extractEntries(
  source: ReusableBufferSource,
  zip: ZipIndex,
  items: Iterable<ExtractItem>,
  options: ExtractOptions,
): Promise<Map<string, Buffer>> {
  // One size for batches and chunks: every read buffer fits every read, so a handful are reused throughout.
  const largeEntryBytes = options.largeEntryBytes ?? 1024 * 1024;
  const batchBytes = options.batchBytes ?? 1024 * 1024;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  // A local file answers at once, so little needs to be read ahead; blob storage needs more in flight to hide its round trips.
  const maxInFlightBytes = options.maxInFlightBytes ?? (source.local ? 4 : 8) * 1024 * 1024;
  const onMainThread = smallEnoughForMainThread(zip, options.mainThreadArchiveBytes ?? MAIN_THREAD_ARCHIVE_BYTES);

  const pool = options.pool ?? new ExtractPool(options.workers);
  if (zip.table.count >= SHARED_MAIN_THREAD_ENTRIES) pool.shareMainThread();
  const dispatch = new ExtractDispatch(source, zip, pool, { ...options, chunkBytes, maxInFlightBytes, onMainThread, runners: onMainThread ? 1 : pool.size });
  pool.onFatal = (error) => dispatch.fail(error);
  const onAbort = () => dispatch.fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error("The restore was aborted."));
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const ordered = Array.isArray(items) ? inZipOrder(items as readonly ExtractItem[], zip) : items;
  const running = new Set<Promise<void>>();
  const heap = new HeapKeeper();
  try {
    try {
      for (const job of planJobs(refuseOversized(ordered, zip, dispatch), zip, options.digests, largeEntryBytes, batchBytes)) {
        if (dispatch.firstFailure) break;
        // Jobs start in archive order, each once its first read fits in the budget.
        await dispatch.reserve(job);
        if (dispatch.firstFailure) break;
        const run: Promise<void> = dispatch.run(job).then(() => void running.delete(run));
        running.add(run);
        heap.tick();
      }
    } catch (error) {
      dispatch.fail(error as Error);
    }
    await Promise.all(running);
    if (dispatch.firstFailure) throw dispatch.firstFailure;
    return dispatch.returned;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    pool.onFatal = () => undefined;
    if (!options.pool) await pool.close();
  }
}

/** Whether the archive's data, and what its entries declare they inflate to, both fit in `limit` bytes (a small zip can hold gigabytes). */
function smallEnoughForMainThread(zip: ZipIndex, limit: number): boolean {
  if (zip.dataLimit > limit) return false;
  let inflated = 0;
  for (let row = 0; row < zip.table.count; row++) if ((inflated += zip.table.sizes[row]!) > limit) return false;
  return true;
}

/** The items, less those whose content would be handed back but declares more than may be held: each is reported as it comes. */
function* refuseOversized(items: Iterable<ExtractItem>, zip: ZipIndex, dispatch: ExtractDispatch): Generator<ExtractItem> {
  const { sizes } = zip.table;
  for (const item of items) {
    if (!item.returnData || sizes[item.zipIndex]! <= MAX_RETURNED_BYTES) yield item;
    else dispatch.entryFailed(item.name, { index: 0, corrupt: true, message: `it declares ${sizes[item.zipIndex]} bytes, more than the ${MAX_RETURNED_BYTES} such an entry may have` });
  }
}
