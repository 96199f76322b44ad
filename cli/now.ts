import { usageError } from "./context.js";

/** `--now`: an ISO-8601 time with a zone, so a dry run means the same moment everywhere. */
export function parseNow(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i.test(text) || Number.isNaN(date.getTime())) {
    throw usageError(`--now "${text}" is not an ISO-8601 time with a zone.`, "Write it like 2026-01-31T02:00:00Z.");
  }
  return date;
}
