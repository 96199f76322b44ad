import { chmodSync, closeSync, fsyncSync, lstatSync, opendirSync, openSync, rmdirSync, unlinkSync, type Stats } from "node:fs";
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

/** What a removal holds at a time, reported once per folder emptied. */
export interface RemovalObserver {
  /** Paths held: the folders on the current path and the subfolders found in them not yet removed. */
  onFolderEmptied?: (heldPaths: number) => void;
}

/**
 * Deletes a tree depth-first, one folder at a time, with synchronous calls:
 * one system call in flight, and memory bounded by the subfolders along the
 * current path (never one object per file, so a million-file tree costs what
 * a small one does). A link is unlinked, never followed, so nothing outside
 * the tree is touched. A folder of the tree that refuses (restored read-only)
 * is given owner permissions and the step retried. A missing target is not an
 * error. The event loop gets a turn between folders, so signals and timers are
 * not held up by a large tree.
 */
export async function removeTree(tree: string, observer: RemovalObserver = {}): Promise<void> {
  const target = path.resolve(tree);
  const info = lstatOrUndefined(target);
  if (!info) return;
  if (!info.isDirectory()) return ignoreMissing(() => unlinkSync(target));
  const stack: OpenFolder[] = [{ path: target, subfolders: undefined }];
  let held = 1;
  while (stack.length > 0) {
    const folder = stack[stack.length - 1]!;
    if (!folder.subfolders) {
      folder.subfolders = withOwnerPermissions(folder.path, () => emptyFolderOfFiles(folder.path));
      held += folder.subfolders.length;
      observer.onFolderEmptied?.(held);
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const next = folder.subfolders.pop();
    if (next !== undefined) stack.push({ path: next, subfolders: undefined });
    else {
      stack.pop();
      held--;
      // The tree's own root is removed from a folder outside it, whose permissions are not ours to change.
      const parent = stack[stack.length - 1];
      ignoreMissing(() => (parent ? withOwnerPermissions(parent.path, () => rmdirSync(folder.path)) : rmdirSync(folder.path)));
    }
  }
}

/** A folder being emptied: the subfolders found in it and not yet removed (undefined until it is listed). */
interface OpenFolder {
  path: string;
  subfolders: string[] | undefined;
}

/** Unlinks every entry of `folder` that is not a folder (links included); returns its subfolders. */
function emptyFolderOfFiles(folder: string): string[] {
  const subfolders: string[] = [];
  const listing = opendirSync(folder, { bufferSize: 128 });
  try {
    for (let entry = listing.readSync(); entry !== null; entry = listing.readSync()) {
      // Joined by hand: the folder is already resolved, and normalizing every name costs more than the unlink.
      const child = `${folder}${path.sep}${entry.name}`;
      if (entry.isDirectory()) subfolders.push(child);
      else ignoreMissing(() => unlinkFile(child));
    }
  } finally {
    listing.closeSync();
  }
  return subfolders;
}

function unlinkFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    // Windows refuses to delete a read-only file.
    if (process.platform !== "win32" || (error as NodeJS.ErrnoException).code !== "EPERM") throw error;
    chmodSync(file, 0o666);
    unlinkSync(file);
  }
}

function ignoreMissing(step: () => void): void {
  try {
    step();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Runs a step inside `folder`; if refused, gives the folder owner read, write and search permission and runs it again. */
function withOwnerPermissions<T>(folder: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== "EACCES" && code !== "EPERM") || !addOwnerPermissions(folder)) throw error;
    return step();
  }
}

/** True when the folder's mode was changed, so that a retry may succeed. */
function addOwnerPermissions(folder: string): boolean {
  const info = lstatOrUndefined(folder);
  if (!info?.isDirectory() || (info.mode & 0o700) === 0o700) return false;
  chmodSync(folder, (info.mode & 0o7777) | 0o700);
  return true;
}

/**
 * A time for utimes/lutimes that lands on the exact millisecond: the conversion
 * to a timespec truncates, and `ms / 1000` is often a hair below the exact value.
 */
export const exactTime = (time: Date | number): number => (typeof time === "number" ? time : time.getTime()) / 1000 + 5e-7;
