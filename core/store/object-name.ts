import { AppBackupError } from "../errors.js";

/** Longest blob name Azure accepts; a local container keeps the same limit. */
const maxObjectNameLength = 1024;

/**
 * Refuses a name that is not one plain object inside the container: a `/` or `\`
 * would reach into a folder (or, in a blob URL, another container via `..`), a
 * leading `.` is kept for hidden temp files and `.`/`..`, and control characters
 * have no place in a name a user can read back.
 */
export function assertPlainObjectName(name: string, location: string): void {
  const why = whyNotPlain(name);
  if (why === undefined) return;
  throw new AppBackupError(
    "USAGE",
    `${JSON.stringify(name)} is not a valid name inside the container ${location}: ${why}.`,
    "Give a backup name as `app-backup list` shows it (letters, digits, '-', '_' and '.'), without a folder or path.",
  );
}

function whyNotPlain(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > maxObjectNameLength) return `it is longer than ${maxObjectNameLength} characters`;
  if (name.includes("/") || name.includes("\\")) return "it contains a path separator";
  if (name.startsWith(".")) return "it starts with '.'";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "it contains a control character";
  return undefined;
}
