import path from "node:path";
import type { ExtractPool } from "../archive/extract-pool.js";
import { emptyFolder, removeEmptyFolder, removeTree } from "../fs/tree-removal.js";

/** Subtrees handed out per worker: enough that one deep subtree does not leave the others idle at the end. */
const SUBTREES_PER_WORKER = 8;
/** Folders this thread lists to find them, at most: the rest of a tree goes whole to the workers. */
const FOLDERS_LISTED_HERE = 256;

/**
 * Deletes a tree (the old home after a restore's switch) on the restore's
 * workers, which are idle by then: a 250k-file home took 1.65 s of unlinks
 * one after another on this thread. This thread lists the tree's top folders,
 * breadth first, unlinking their files, until it has enough subtrees to share
 * out; each worker deletes one subtree at a time as `removeTree` would (links
 * unlinked, never followed; read-only folders given owner permissions), then
 * this thread removes the emptied top folders, deepest first. A failure
 * rejects once the workers in flight are done, as `removeTree` would fail.
 */
export async function removeTreeOnWorkers(tree: string, pool: ExtractPool): Promise<void> {
  const root = path.resolve(tree);
  const listed: Array<{ folder: string; parent: string | undefined }> = [];
  let subtrees: Array<{ folder: string; parent: string }>;
  try {
    subtrees = emptyFolder(root).map((folder) => ({ folder, parent: root }));
  } catch (error) {
    // Not a folder (or gone): the plain removal knows what to do with it.
    if ((error as NodeJS.ErrnoException).code === "ENOTDIR" || (error as NodeJS.ErrnoException).code === "ENOENT") return removeTree(root);
    throw error;
  }
  listed.push({ folder: root, parent: undefined });
  const wanted = pool.size * SUBTREES_PER_WORKER;
  while (subtrees.length > 0 && subtrees.length < wanted && listed.length < FOLDERS_LISTED_HERE) {
    const { folder, parent } = subtrees.shift()!;
    subtrees.push(...emptyFolder(folder).map((child) => ({ folder: child, parent: folder })));
    listed.push({ folder, parent });
  }
  await shareOut(
    subtrees.map((s) => s.folder),
    pool,
  );
  for (let index = listed.length - 1; index >= 0; index--) removeEmptyFolder(listed[index]!.folder, listed[index]!.parent);
}

/** Deletes each subtree on a worker, one per worker at a time; rejects with the first failure once none is in flight. */
function shareOut(subtrees: string[], pool: ExtractPool): Promise<void> {
  if (subtrees.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let failure: Error | undefined;
    const settleIfDone = () => {
      if (inFlight > 0 || (next < subtrees.length && !failure)) return;
      if (failure) reject(failure);
      else resolve();
    };
    // A worker that dies answers nothing more: nothing is in flight then.
    pool.onFatal = (error) => {
      failure ??= error;
      inFlight = 0;
      settleIfDone();
    };
    const startNext = () => {
      if (failure || next >= subtrees.length) return settleIfDone();
      const folder = subtrees[next++]!;
      inFlight++;
      let job: ReturnType<ExtractPool["start"]>;
      try {
        job = start(folder);
      } catch (error) {
        inFlight--;
        failure ??= error as Error;
        return settleIfDone();
      }
      job.post({ type: "remove", path: folder });
    };
    const start = (folder: string) =>
      pool.start("large", (message) => {
        pool.finish(message.id);
        if (failure && inFlight === 0) return;
        inFlight--;
        const failed = message.failure as { message: string; code?: string } | undefined;
        if (message.type !== "done" || failed) {
          const reason = failed ? failed.message : String(message.message ?? message.type);
          failure ??= Object.assign(new Error(`Cannot delete ${folder}: ${reason}`), { code: failed?.code });
        }
        startNext();
      });
    const runners = Math.min(pool.size, subtrees.length);
    for (let i = 0; i < runners; i++) startNext();
  }).finally(() => {
    pool.onFatal = () => undefined;
  });
}
