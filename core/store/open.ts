import type { StorageSpec } from "../options.js";
import { AzureBlobStore } from "./azure.js";
import { LocalStore } from "./local.js";
import type { Store } from "./store.js";

export function openStore(spec: StorageSpec): Store {
  return spec.kind === "local" ? new LocalStore(spec.path) : new AzureBlobStore(spec);
}
