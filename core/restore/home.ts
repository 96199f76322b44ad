import { realpathSync } from "node:fs";
import path from "node:path";
import type { AppBackupOptions } from "../options.js";

/**
 * The folder a restore of `target` changes: its home as a real path, so a home
 * reached through a symlink is restored where the link points. The journal and
 * staging live beside it, so whoever settles an interrupted restore must find
 * the same folder the restore used.
 */
export function restoreHomeOf(target: AppBackupOptions): string {
  const declared = path.resolve(target.app.home);
  try {
    return realpathSync(declared);
  } catch {
    return declared;
  }
}
