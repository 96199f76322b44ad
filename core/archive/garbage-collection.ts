import v8 from "node:v8";
import vm from "node:vm";

type Collector = (options: { type: "minor" | "major" }) => void;

let collector: Collector | null | undefined;

/**
 * V8 frees a Buffer's memory only when it collects the small JS object that owns
 * it, and it schedules collections by JS heap growth, with a slack of about
 * 64 MiB of outside memory per thread. Archiving moves hundreds of MiB through
 * buffers while allocating little JS, so without help each thread holds tens of
 * MiB of dead buffers and the allocator keeps them resident. The archive asks
 * for a cheap young-generation collection after each batch of work instead.
 *
 * Exposing `gc` after startup is what `node --expose-gc` does at startup; it
 * also makes `gc` available to worker threads started afterwards.
 */
export function enableGarbageCollection(): Collector | null {
  if (collector !== undefined) return collector;
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === "function") return (collector = existing as Collector);
  try {
    v8.setFlagsFromString("--expose-gc");
    const exposed: unknown = vm.runInNewContext("gc");
    collector = typeof exposed === "function" ? (exposed as Collector) : null;
  } catch {
    collector = null;
  }
  return collector;
}

export function collectGarbage(type: "minor" | "major"): void {
  enableGarbageCollection()?.({ type });
}

let youngGenerationKeptSmall = false;

/**
 * V8 doubles the young generation whenever much of it survives a collection,
 * and a backup or restore keeps tens of thousands of small entries alive while
 * it starts, so the young generation grows to its maximum (up to 64 MiB on
 * Node 24) and stays there though the job then allocates little JS. Growing
 * it no further than its start size keeps a run's memory near what it holds.
 * For the processes app-backup owns (the CLI, the Action), set before work starts.
 */
export function keepYoungGenerationSmall(): void {
  youngGenerationKeptSmall = true;
  limitYoungGenerationGrowth();
}

/**
 * Starting a worker thread's engine sets V8's flags again, which undoes
 * `keepYoungGenerationSmall` for the main thread too (measured: 32 MiB of
 * young generation instead of 2 once a worker is up): worker pools call this
 * once each worker is running.
 */
export function workerOnline(): void {
  if (youngGenerationKeptSmall) limitYoungGenerationGrowth();
}

function limitYoungGenerationGrowth(): void {
  try {
    v8.setFlagsFromString("--semi-space-growth-factor=1");
  } catch {
    // An engine without the flag keeps its default growth.
  }
}
