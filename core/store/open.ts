import type { StorageSpec } from "../options.js";
import { LocalStore } from "./local.js";
import type { Store } from "./store.js";

/**
 * Opens the container a storage spec names. The Azure SDK is loaded only for
 * an Azure container: a backup into a local folder never pays its start-up
 * time or the tens of megabytes its modules hold.
 */
export async function openStore(spec: StorageSpec): Promise<Store> {
  if (spec.kind === "local") return new LocalStore(spec.path);
  const { AzureBlobStore } = await import("./azure.js");
  return new AzureBlobStore(spec);
}
