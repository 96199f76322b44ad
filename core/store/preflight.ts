import { randomBytes } from "node:crypto";
import { AppBackupError, isAppBackupError } from "../errors.js";
import { missingSasPermissions, newSasHint, outOfTermError } from "./sas.js";
import type { CallOptions, Store } from "./store.js";

/** What a command is about to do with the container, and the SAS letters it needs for it. */
const uses = {
  backup: { letters: "cw", action: "write a backup" },
  /** A backup named: its manifest and zip are read. */
  "read-backup": { letters: "r", action: "read a backup" },
  /** `latest` or `--at`: the app's backups are listed first. */
  "find-backup": { letters: "rl", action: "find and read a backup" },
} as const;
export type ContainerUse = keyof typeof uses;

/**
 * The name of the object a backup writes and deletes to learn it may write. It
 * is no backup's part (no `.zip`/`.xml`/`.log`) nor a claim, so listings,
 * `latest` and the orphan sweep never take it for anything.
 */
export const writeCheckNameOf = (random: string) => `write-check.${random}.tmp`;

/**
 * Checks, before any work, that the container allows what the command will do:
 * a SAS out of its term or without the permissions is refused from its own
 * terms, without a request; a backup then writes and deletes a tiny object, so
 * a read-only credential fails now and not after the walk and every database dump.
 */
export async function assertContainerAllows(store: Store, use: ContainerUse, options: CallOptions = {}): Promise<void> {
  const { letters, action } = uses[use];
  const outOfTerm = outOfTermError(store.sas, action, store.location);
  if (outOfTerm) throw outOfTerm;
  const missing = store.sas ? missingSasPermissions(store.sas, letters) : [];
  if (missing.length > 0) {
    throw new AppBackupError(
      "STORAGE_AUTH",
      `The SAS token in backup.storage grants sp=${store.sas!.permissions}, without ${missing.join(" and ")}: it cannot ${action} at ${store.location}.`,
      newSasHint,
    );
  }
  if (use !== "backup") return;
  await store.check(options);
  // A local container's check writes a file of its own already.
  if (store.localPath) return;
  const name = writeCheckNameOf(randomBytes(6).toString("hex"));
  try {
    await store.put(name, "", { ...options, overwrite: true });
  } catch (error) {
    options.abortSignal?.throwIfAborted();
    if (!isAppBackupError(error)) throw error;
    throw new AppBackupError(error.code, `The container cannot be written, so nothing was backed up: ${error.message}`, error.hint, { cause: error });
  }
  // Left behind only when the credential may write but not delete; nothing ever reads it.
  await store.delete(name, options).catch(() => undefined);
}
