import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { AppBackupError } from "../../errors.js";
import { PathFilter } from "../../plan/filter.js";
import { spoolHome } from "../../plan/planned-entries.js";
import type { SftpSession } from "./connection.js";
import { makeRemoteFolder, makeRemoteSymlink, removeRemoteTree, setRemoteAttributes, writeRemoteFile } from "./write.js";

/** Files, links and folders being created at once: each costs round trips, so several overlap (each file keeps its own writes in flight). */
const uploadsAtOnce = 8;

export interface UploadOptions {
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
}

/**
 * Copies a local folder tree to `remoteRoot` (which must not exist yet; its parent
 * must): files with their modes and mtimes, folders, symlinks as links (their
 * targets as written). Several entries are written at once, each once its folder
 * exists; folders get their modes and mtimes last, deepest first, so a read-only
 * folder is filled before it is closed and no write changes a folder's time after
 * it was set. Memory is bounded: the walk is spooled, and each file streams.
 *
 * On failure what was written is removed (when the connection still allows) and the error rethrown.
 */
export async function uploadTree(session: SftpSession, localTree: string, remoteRoot: string, options: UploadOptions = {}): Promise<void> {
  const { signal, onProgress } = options;
  const walk = spoolHome(localTree, new PathFilter([], "no filter"));
  try {
    if (walk.unreadable.length > 0) {
      const first = walk.unreadable[0]!;
      throw new AppBackupError("RESTORE", `The staged tree ${localTree} cannot be read: ${first.path}: ${first.reason}.`, "Check the temp folder's permissions and free space, then run the restore again.");
    }
    await removeRemoteTree(session, remoteRoot);
    await makeRemoteFolder(session, remoteRoot, 0o700);

    let sent = 0;
    const counted = async function* (file: string): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
        sent += chunk.length;
        onProgress?.(sent);
        yield chunk;
      }
    };
    /** Folders in walk order (a folder before what it holds), with when each exists. */
    const folders: Array<{ path: string; mode: number; mtime: Date }> = [];
    const created = new Map<string, Promise<void>>([["", Promise.resolve()]]);
    const running = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const launch = (work: () => Promise<void>): Promise<void> => {
      const task: Promise<void> = work()
        .catch((error: unknown) => {
          failure ??= { error };
          throw error;
        })
        .finally(() => running.delete(task));
      running.add(task);
      return task;
    };

    for (const entry of walk.entries) {
      signal?.throwIfAborted();
      if (failure) break;
      while (running.size >= uploadsAtOnce) await Promise.race(running).catch(() => {});
      if (failure) break;
      const remote = `${remoteRoot}/${entry.path}`;
      const parent = created.get(parentOf(entry.path)) ?? Promise.resolve();
      if (entry.kind === "directory") {
        folders.push({ path: remote, mode: entry.mode, mtime: entry.mtime });
        const made = launch(async () => {
          await parent;
          await makeRemoteFolder(session, remote, 0o700);
        });
        made.catch(() => {});
        created.set(entry.path, made);
      } else if (entry.kind === "symlink") {
        launch(async () => {
          await parent;
          await makeRemoteSymlink(session, remote, entry.linkTarget!);
        }).catch(() => {});
      } else {
        const local = `${localTree}/${entry.path}`;
        launch(async () => {
          await parent;
          await writeRemoteFile(session, remote, counted(local), { mode: entry.mode, mtime: entry.mtime });
        }).catch(() => {});
      }
    }
    await Promise.allSettled(running);
    if (failure) throw failure.error;
    signal?.throwIfAborted();
    for (const folder of folders.reverse()) await setRemoteAttributes(session, folder.path, folder);
    const top = await lstat(localTree);
    await setRemoteAttributes(session, remoteRoot, { mode: top.mode, mtime: top.mtime });
  } catch (error) {
    if (!session.closed) await removeRemoteTree(session, remoteRoot).catch(() => {});
    throw error;
  } finally {
    walk.entries.close();
  }
}

function parentOf(relative: string): string {
  const slash = relative.lastIndexOf("/");
  return slash < 0 ? "" : relative.slice(0, slash);
}
