import { MAX_UINT16 } from "./zip-format.js";

/** NUL, a leading slash, an empty segment, or a `.` / `..` segment. */
const SUSPICIOUS = /\0|^\/|\/\/|(^|\/)\.\.?(\/|$)/;

/**
 * Checks a name before it goes into the zip: relative, `/`-separated, with no
 * `.` or `..` segment, so no reader can be led outside its target folder.
 * Returns the name, with a trailing `/` for directories.
 */
export function entryName(name: string, kind: "file" | "directory" | "symlink"): string {
  if (typeof name !== "string" || name.length === 0) throw new TypeError("A zip entry name must be a non-empty string.");
  const normalized = kind === "directory" && !name.endsWith("/") ? `${name}/` : name;
  // One pass over the name in the common case; the detailed check only runs when something looks wrong.
  const plain = !SUSPICIOUS.test(normalized) && (kind === "directory" || !normalized.endsWith("/")) && normalized.length * 3 <= MAX_UINT16;
  if (plain) return normalized;
  const problem = nameProblem(normalized, kind);
  if (problem) throw new TypeError(`Cannot add "${name}" to the zip: ${problem}.`);
  return normalized;
}

function nameProblem(name: string, kind: "file" | "directory" | "symlink"): string | undefined {
  if (name.includes("\0")) return "the name contains a NUL character";
  if (name.startsWith("/")) return "the name must be relative (no leading /)";
  if (kind !== "directory" && name.endsWith("/")) return "only directory names may end with /";
  const segments = (kind === "directory" ? name.slice(0, -1) : name).split("/");
  if (segments.some((s) => s === "")) return "the name has an empty path segment (//)";
  if (segments.some((s) => s === "." || s === "..")) return "the name has a . or .. segment";
  if (Buffer.byteLength(name) > MAX_UINT16) return "the name is longer than 65,535 bytes";
  return undefined;
}
