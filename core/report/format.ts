import { formatSize } from "../config/size.js";

/** Sizes, counts, durations and times as every front end prints them. */
export { formatSize };

/**
 * A count with en-US thousands separators ("1,234,567"). Whole numbers are
 * grouped here rather than by Intl, whose first use in a process costs it tens
 * of milliseconds: more than the rest of a short command.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  const sign = n < 0 || Object.is(n, -0) ? "-" : "";
  return `${sign}${String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ",")}`;
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
