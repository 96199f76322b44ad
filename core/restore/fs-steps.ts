import { chmodSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, type Stats } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";

export const exists = (target: string): boolean => lstatSync(target, { throwIfNoEntry: false }) !== undefined;

export const lstatOrUndefined = (target: string): Stats | undefined => lstatSync(target, { throwIfNoEntry: false });

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
