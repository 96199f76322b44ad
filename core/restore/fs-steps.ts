import { closeSync, fsyncSync, lstatSync, openSync, type Stats } from "node:fs";
import path from "node:path";

export const exists = (target: string): boolean => lstatSync(target, { throwIfNoEntry: false }) !== undefined;

export const lstatOrUndefined = (target: string): Stats | undefined => lstatSync(target, { throwIfNoEntry: false });

/** Where a chain of folders under a root stops being made of real folders. */
export interface ChainBreak {
  /** How many of the segments lead to the breaking path (1 = the first segment). */
  depth: number;
  /** The breaking path, relative to the root, `/`-separated. */
  relative: string;
  kind: "missing" | "symlink" | "file" | "other";
}

/**
 * The first of `segments`' successive paths under `root` that is not a real
 * folder, or undefined when each one is. Every step is lstat'd, so a symlink
 * is reported, never followed: a path reached through it would be outside the
 * root.
 */
export function firstNonFolder(root: string, segments: readonly string[]): ChainBreak | undefined {
  let current = root;
  for (let depth = 1; depth <= segments.length; depth++) {
    current = path.join(current, segments[depth - 1]!);
    const info = lstatOrUndefined(current);
    if (info?.isDirectory()) continue;
    const kind = !info ? "missing" : info.isSymbolicLink() ? "symlink" : info.isFile() ? "file" : "other";
    return { depth, relative: segments.slice(0, depth).join("/"), kind };
  }
  return undefined;
}

/** Makes a rename or a new entry in `folder` durable; a no-op where folders cannot be synced. */
export function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, "r");
    fsyncSync(fd);
  } catch {
    // Folders cannot be opened or synced on some platforms; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A time for utimes/lutimes that lands on the exact millisecond: the conversion
 * to a timespec truncates, and `ms / 1000` is often a hair below the exact value.
 */
export const exactTime = (time: Date | number): number => (typeof time === "number" ? time : time.getTime()) / 1000 + 5e-7;
