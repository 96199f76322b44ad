import { collectGarbage } from "./garbage-collection.js";

/** JS heap in use past which a full collection is asked for (raised when more survives one, see HEAP_HEADROOM_BYTES). */
const DEFAULT_HEAP_LIMIT_BYTES = 16 * 1024 * 1024;
/** Garbage let grow past what survived the last collection before the next. */
const HEAP_HEADROOM_BYTES = 6 * 1024 * 1024;

/**
 * Keeps the main thread's JS heap near what it holds during an extraction.
 * Each batch's items live while the batch is in a worker, long enough to be
 * promoted out of the young generation, so they die in the old one, and V8
 * lets that fill to 50-70 MB before its first full collection (measured on a
 * million-file restore, whose live heap is about 10 MB). A full collection
 * when the heap in use passes a limit keeps it small; the limit follows what
 * survives, so a heap that really holds more is not collected over and over.
 */
export class HeapKeeper {
  private heapLimit: number;

  constructor(private readonly baseHeapLimitBytes = DEFAULT_HEAP_LIMIT_BYTES) {
    this.heapLimit = baseHeapLimitBytes;
  }

  /** Called once per unit of work (a job sent: up to a MB of entries; a look costs microseconds). */
  tick(): void {
    if (process.memoryUsage().heapUsed <= this.heapLimit) return;
    collectGarbage("major");
    this.heapLimit = Math.max(this.baseHeapLimitBytes, process.memoryUsage().heapUsed + HEAP_HEADROOM_BYTES);
  }
}
