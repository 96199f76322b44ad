import { formatSize } from "../config/size.js";

/** Sizes, counts, durations and times as every front end prints them. */
export { formatSize };

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** A time in UTC to the second, as `2026-01-31 02:00:00`: short enough for a table column. */
export function formatUtc(date: Date): string {
  return date.toISOString().replace("T", " ").slice(0, 19);
}
