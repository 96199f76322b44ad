import { chmodSync, lstatSync, opendirSync, rmdirSync, unlinkSync } from "node:fs";
import path from "node:path";

const lstatOrUndefined = (target: string) => lstatSync(target, { throwIfNoEntry: false });

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
  const removal = TreeRemoval.of(tree);
  while (removal?.step(observer)) await new Promise((resolve) => setImmediate(resolve));
}

/** `removeTree` without turns for the event loop: for a thread that has nothing else to do. */
export function removeTreeSync(tree: string): void {
  const removal = TreeRemoval.of(tree);
  while (removal?.step({}));
}

/**
 * Lists `folder` and unlinks what in it is not a folder (links included), as
 * `removeTree` does; returns its subfolders, which are left for the caller.
 */
export function emptyFolder(folder: string): string[] {
  return withOwnerPermissions(folder, () => emptyFolderOfFiles(folder));
}

/** Removes an emptied folder; `parent` is its parent, given owner permissions if it refuses (undefined: not ours to change). */
export function removeEmptyFolder(folder: string, parent: string | undefined): void {
  ignoreMissing(() => (parent ? withOwnerPermissions(parent, () => rmdirSync(folder)) : rmdirSync(folder)));
}

/** One tree's deletion, a folder emptied per step. */
class TreeRemoval {
  private readonly stack: OpenFolder[];
  private held = 1;

  private constructor(root: string) {
    this.stack = [{ path: root, subfolders: undefined }];
  }

  /** Undefined when the tree was a file (unlinked now) or did not exist. */
  static of(tree: string): TreeRemoval | undefined {
    const target = path.resolve(tree);
    const info = lstatOrUndefined(target);
    if (!info) return undefined;
    if (!info.isDirectory()) {
      ignoreMissing(() => unlinkSync(target));
      return undefined;
    }
    return new TreeRemoval(target);
  }

  /** Empties the next folder of its files, or removes the folders emptied below it; false once the tree is gone. */
  step(observer: RemovalObserver): boolean {
    const stack = this.stack;
    while (stack.length > 0) {
      const folder = stack[stack.length - 1]!;
      if (!folder.subfolders) {
        folder.subfolders = emptyFolder(folder.path);
        this.held += folder.subfolders.length;
        observer.onFolderEmptied?.(this.held);
        return true;
      }
      const next = folder.subfolders.pop();
      if (next !== undefined) stack.push({ path: next, subfolders: undefined });
      else {
        stack.pop();
        this.held--;
        // The tree's own root is removed from a folder outside it, whose permissions are not ours to change.
        removeEmptyFolder(folder.path, stack[stack.length - 1]?.path);
      }
    }
    return false;
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
