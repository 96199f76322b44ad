/**
 * Milliseconds from an arbitrary start, never going back with the wall clock.
 * The global `performance` loads a module of its own on first use (5 ms of a
 * short run); `process.uptime` is there already, and unlike `process.hrtime`
 * allocates nothing, which matters to a caller that asks once per file.
 */
export function monotonicMs(): number {
  return process.uptime() * 1000;
}
