import { ExtractDispatch } from "./extract-dispatch.js";
import { planJobs } from "./extract-jobs.js";
import { ExtractPool } from "./extract-pool.js";
import type { ExtractItem, ExtractOptions } from "./extract-request.js";
import type { ReusableBufferSource } from "./random-access-source.js";
import type { ZipIndex } from "./zip-index.js";

export { EntryFailure, type ExtractItem, type ExtractOptions, type ExtractProgress } from "./extract-request.js";

/** Content handed back to the caller is held whole: an entry asked for that declares more is refused unread. */
export const MAX_RETURNED_BYTES = 16 * 1024 * 1024;

/**
 * Reads the archive in ascending offset order, a few ranges at a time, and
 * hands the stored bytes to worker threads that inflate, check and write them.
 * Memory stays within `maxInFlightBytes` plus a worker's current entry. The
 * first failure stops everything: reads stop, workers are terminated, and the
 * failure is thrown (the caller discards what was written).
 *
 * Resolves to the content of the entries that asked for it, by entry name.
 */
export async function extractEntries(
  source: ReusableBufferSource,
  zip: ZipIndex,
  items: readonly ExtractItem[],
  options: ExtractOptions,
): Promise<Map<string, Buffer>> {
  // One size for batches and chunks: every read buffer fits every read, so a handful are reused throughout.
  const largeEntryBytes = options.largeEntryBytes ?? 1024 * 1024;
  const batchBytes = options.batchBytes ?? 1024 * 1024;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  // A local file answers at once, so little needs to be read ahead; blob storage needs more in flight to hide its round trips.
  const maxInFlightBytes = options.maxInFlightBytes ?? (source.local ? 4 : 8) * 1024 * 1024;

  const { table } = zip;
  const oversized = new Set(items.filter((item) => item.returnData && table.sizes[item.zipIndex]! > MAX_RETURNED_BYTES));
  const jobs = planJobs(oversized.size ? items.filter((item) => !oversized.has(item)) : items, zip, largeEntryBytes, batchBytes);
  const pool = options.pool ?? new ExtractPool(options.workers);
  const dispatch = new ExtractDispatch(source, zip, pool, { ...options, chunkBytes, maxInFlightBytes });
  pool.onFatal = (error) => dispatch.fail(error);
  const onAbort = () => dispatch.fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error("The restore was aborted."));
  options.signal?.addEventListener("abort", onAbort, { once: true });

  for (const item of oversized) {
    dispatch.entryFailed(item, { index: 0, corrupt: true, message: `it declares ${table.sizes[item.zipIndex]} bytes, more than the ${MAX_RETURNED_BYTES} such an entry may have` });
  }
  const running: Array<Promise<void>> = [];
  try {
    for (const job of jobs) {
      if (dispatch.firstFailure) break;
      // Jobs start in archive order, each once its first read fits in the budget.
      await dispatch.reserve(job);
      if (dispatch.firstFailure) break;
      running.push(dispatch.run(job));
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
