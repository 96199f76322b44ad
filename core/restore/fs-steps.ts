import { chmodSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, type Stats } from "node:fs";
import { rm } from "node:fs/promises";
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
 * Deletes a tree, including one whose folders were restored read-only: when
 * removal is refused, owner write permission is added to the folders and the
 * removal retried.
 */
export async function removeTree(target: string): Promise<void> {
  try {
    await rm(target, { recursive: true, force: true, maxRetries: 2 });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw error;
  }
  makeFoldersWritable(target);
  await rm(target, { recursive: true, force: true, maxRetries: 2 });
}

function makeFoldersWritable(folder: string): void {
  const info = lstatOrUndefined(folder);
  if (!info?.isDirectory()) return;
  if ((info.mode & 0o700) !== 0o700) {
    try {
      chmodSync(folder, (info.mode & 0o7777) | 0o700);
    } catch {
      return;
    }
  }
  let names: string[] = [];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) makeFoldersWritable(path.join(folder, name));
}

/**
 * A time for utimes/lutimes that lands on the exact millisecond: the conversion
 * to a timespec truncates, and `ms / 1000` is often a hair below the exact value.
 */
export const exactTime = (time: Date | number): number => (typeof time === "number" ? time : time.getTime()) / 1000 + 5e-7;
