/**
 * Milliseconds from an arbitrary start, never going back with the wall clock.
 * The global `performance` loads a module of its own on first use (5 ms of a
 * short run); `process.hrtime` is already there.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
