/** Linux limit on a name component (NAME_MAX). */
const MAX_COMPONENT_BYTES = 255;

/**
 * Why an entry name read from a zip or a manifest is not one a backup may hold:
 * absolute, with a drive letter, an empty, `.` or `..` segment, a NUL, or a
 * component no file system takes. Both the zip's directory and the manifest's
 * entry list are checked by this one rule, so they cannot disagree on a name.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "the name is empty";
  const first = name.charCodeAt(0);
  if (first === 47 || first === 92) return "the name is an absolute path";
  if (name.length >= 2 && name.charCodeAt(1) === 58 && ((first | 32) >= 97 && (first | 32) <= 122)) return "the name starts with a drive letter";
  const end = name.endsWith("/") ? name.length - 1 : name.length;
  // Backslashes are separators on Windows: a `..\` segment escapes there, so it is refused everywhere.
  let segmentStart = 0;
  let componentStart = 0;
  for (let i = 0; i <= end; i++) {
    const code = i === end ? 47 : name.charCodeAt(i);
    if (code === 0) return "the name contains a NUL character";
    if (code !== 47 && code !== 92) continue;
    const length = i - segmentStart;
    if (length === 0) return "the name has an empty or . path segment";
    if (length <= 2 && name.charCodeAt(segmentStart) === 46) {
      if (length === 1) return "the name has an empty or . path segment";
      if (name.charCodeAt(segmentStart + 1) === 46) return "the name escapes the target folder with ..";
    }
    segmentStart = i + 1;
    if (code === 47) {
      // A component of up to 85 UTF-16 units cannot exceed 255 bytes; only longer ones need counting.
      if (i - componentStart > 85 && Buffer.byteLength(name.slice(componentStart, i)) > MAX_COMPONENT_BYTES) {
        return `a path component is longer than the ${MAX_COMPONENT_BYTES} bytes a file name may have`;
      }
      componentStart = i + 1;
    }
  }
  return undefined;
}
