import { usageError } from "./context.js";

/** `--now`: an ISO-8601 time with a zone, so a dry run means the same moment everywhere. */
export function parseNow(text: string | undefined): Date | undefined {
  return parseTime("--now", text);
}

/**
 * An option's ISO-8601 time with a zone (`2026-11-30T02:00Z`, with seconds, or
 * an offset such as `+01:00`), so it means the same moment on every machine.
 */
export function parseTime(option: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i.test(text) || Number.isNaN(date.getTime())) {
    throw usageError(`${option} "${text}" is not an ISO-8601 time with a zone.`, "Write it like 2026-01-31T02:00Z or 2026-01-31T03:00:00+01:00.");
  }
  return date;
}
