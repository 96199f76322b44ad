import { hostname } from "node:os";
import { claimNameOf } from "../backup/reserve-name.js";
import { backupObjectsOf, deleteBackup } from "../catalog/delete.js";
import { AppBackupError } from "../errors.js";
import type { Store } from "../store/store.js";
import { withAppLock } from "./lock.js";

export interface DeleteBackupRun {
  lockTtlMs: number;
  onWarning?: (message: string) => void;
}

/**
 * `delete` for every front end: under the app's lock (so never beside a
 * scheduled run or a prune of the app) and the backup name's claim (so never
 * beside a backup writing that name), removes the manifest, then the zip, then
 * the log. Returns the names of the objects removed. A name outside the app's
 * naming scheme is refused before anything is looked at.
 */
export async function deleteAppBackup(store: Store, appName: string, name: string, run: DeleteBackupRun): Promise<string[]> {
  await backupObjectsOf(store, appName, name);
  return withAppLock(
    store,
    appName,
    async () => {
      const claim = await store.locker.tryLock(claimNameOf(name), { ttlMs: run.lockTtlMs, holder: `delete of ${name} (pid ${process.pid} on ${hostname()})` });
      if (!claim.acquired) {
        throw new AppBackupError(
          "LOCKED",
          `A backup named ${name} is being written in ${store.location} (${claim.holder ?? "holder unknown"}); nothing was deleted.`,
          "Run the delete again once that backup has finished.",
        );
      }
      try {
        // Looked at again under the lock: another runner may have deleted it meanwhile.
        const present = await backupObjectsOf(store, appName, name);
        await deleteBackup(store, name);
        return present;
      } finally {
        await claim.lock.discard().catch(() => undefined);
      }
    },
    { ttlMs: run.lockTtlMs, purpose: `delete of ${name}`, onWarning: run.onWarning },
  );
}
