// Taken as Node holds them, not imported: see code-cache.ts.
const { lstatSync, mkdirSync } = process.getBuiltinModule("node:fs");
const module = process.getBuiltinModule("node:module");
const { tmpdir } = process.getBuiltinModule("node:os");
const path = process.getBuiltinModule("node:path");

/**
 * Lets Node keep the compiled code of the modules the CLI loads on disk, and
 * returns the folder where the CLI keeps its own code cache (code-cache.ts).
 * NODE_COMPILE_CACHE, when set, names the folder (NODE_DISABLE_COMPILE_CACHE
 * turns both off), as for any Node program. Otherwise the folder is this
 * user's own under the temp folder, used only when no one else can write to
 * it: compiled code read from it runs as this user. Without a folder it can
 * use, the CLI runs as it would without the caches.
 */
export function enableCompileCache(): string | undefined {
  if (process.env.NODE_DISABLE_COMPILE_CACHE !== undefined) return undefined;
  try {
    const named = process.env.NODE_COMPILE_CACHE;
    if (named !== undefined) {
      module.enableCompileCache?.();
      return named === "" ? undefined : path.resolve(named);
    }
    const uid = process.getuid?.();
    const folder = path.join(tmpdir(), compileCacheFolderName());
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const stat = lstatSync(folder);
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) return undefined;
    module.enableCompileCache?.(folder);
    return folder;
  } catch {
    // No cache: every run compiles the code it runs.
    return undefined;
  }
}

/** The compile cache's folder in the temp folder: one per user. */
export const compileCacheFolderName = () => `app-backup-compile-cache-${process.getuid?.() ?? "user"}`;
