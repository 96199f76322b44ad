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
 *
 * What survived is read one step after the collection, not at once: V8
 * sweeps the dead objects' pages concurrently, and until it has, they still
 * count as in use.
 */
export class HeapKeeper {
  private heapLimit: number;
  private collected = false;

  constructor(private readonly baseHeapLimitBytes = DEFAULT_HEAP_LIMIT_BYTES) {
    this.heapLimit = baseHeapLimitBytes;
  }

  /** Called once per unit of work (a job sent: up to a MB of entries; a look costs microseconds). */
  tick(): void {
    const inUse = process.memoryUsage().heapUsed;
    if (this.collected) {
      this.collected = false;
      this.heapLimit = Math.max(this.baseHeapLimitBytes, inUse + HEAP_HEADROOM_BYTES);
    }
    if (inUse <= this.heapLimit) return;
    collectGarbage("major");
    this.collected = true;
  }
}
