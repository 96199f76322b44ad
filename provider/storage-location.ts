import { AppBackupError, openStore, resolveStorage, type Store } from "../core/index.js";
import { providerError, type ResourceKind } from "./app-options.js";
import { containsUnknown, sameValue } from "./normalize.js";
import type { BackupStorage } from "./types.js";

/** The container (or folder) a storage input points at now, without credentials. */
async function currentStorageLocation(storage: BackupStorage): Promise<string> {
  const spec = resolveStorage(storage, { baseDir: process.cwd(), env: process.env, source: "the storage input" });
  return (await openStore(spec)).location;
}

/**
 * Whether a storage input points at another container than the one the
 * resource lives in. Rotating a SAS token or key keeps the location; an
 * `${env:VAR}` reference that now names another container moves it. When the
 * new value cannot be resolved, a different declared value counts as a move.
 */
export async function storageMoved(old: { storage: BackupStorage; storageLocation: string }, storage: BackupStorage): Promise<boolean> {
  if (containsUnknown(storage)) return false;
  try {
    return (await currentStorageLocation(storage)) !== old.storageLocation;
  } catch {
    return !sameValue(old.storage, storage);
  }
}

/**
 * Fails when the store the inputs open now is not the one the resource was
 * made in: deleting or reading there would touch the wrong container.
 */
export function requireSameLocation(store: Store, recorded: { storageLocation: string; name: string }, kind: ResourceKind, action: string): void {
  if (store.location === recorded.storageLocation) return;
  throw providerError(
    new AppBackupError(
      "STORAGE",
      `Cannot ${action}: the ${kind} of ${recorded.name} lives in ${recorded.storageLocation}, but its storage input now points at ${store.location}.`,
      "Set the environment variables the storage input refers to as they were when the resource was created, then run the command again.",
    ),
  );
}
