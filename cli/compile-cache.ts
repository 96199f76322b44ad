import { lstatSync, mkdirSync } from "node:fs";
import module from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Lets Node keep the compiled code of the CLI's modules on disk (Node 22.1 and
 * later), so that a run after the first parses and compiles none of them: most
 * of a short command's time is start-up. NODE_COMPILE_CACHE, when set, names the
 * folder (NODE_DISABLE_COMPILE_CACHE turns it off), as for any Node program.
 * Otherwise the folder is this user's own under the temp folder, used only when
 * no one else can write to it: compiled code read from it runs as this user.
 * Without a folder it can use, the CLI runs as it would without the cache.
 */
export function enableCompileCache(): void {
  if (typeof module.enableCompileCache !== "function") return;
  try {
    if (process.env.NODE_COMPILE_CACHE !== undefined || process.env.NODE_DISABLE_COMPILE_CACHE !== undefined) {
      module.enableCompileCache();
      return;
    }
    const uid = process.getuid?.();
    const folder = path.join(tmpdir(), compileCacheFolderName());
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const stat = lstatSync(folder);
    if (stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0) module.enableCompileCache(folder);
  } catch {
    // No cache: every run compiles the modules it loads.
  }
}

/** The compile cache's folder in the temp folder: one per user. */
export const compileCacheFolderName = () => `app-backup-compile-cache-${process.getuid?.() ?? "user"}`;
