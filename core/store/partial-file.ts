import { randomBytes } from "node:crypto";
import path from "node:path";

/** Files that are being written into a local container carry this prefix and are never listed. */
export const partialPrefix = ".partial-";

/** A fresh name in the container for an object's content before it is published. */
export function partialPathOf(root: string, name: string): string {
  return path.join(root, `${partialPrefix}${randomBytes(6).toString("hex")}-${name}`);
}
