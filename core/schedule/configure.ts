import type { AppBackupOptions } from "../options.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import {
  configurationDifferences,
  readStoredConfiguration,
  storedConfigurationFromOptions,
  writeStoredConfiguration,
  type StoredConfiguration,
} from "./stored-config.js";

export interface StoreConfigurationResult {
  document: StoredConfiguration;
  /** Address of the stored document, without credentials. */
  url: string;
  /** True when no configuration of the app was stored before. */
  created: boolean;
  /** Keys that changed from the previously stored configuration. */
  changed: string[];
}

/**
 * Stores the app's backup configuration in its container (what `configure`
 * does): the previous document's default startTime is kept.
 */
export async function storeConfiguration(
  options: AppBackupOptions,
  context: { store?: Store; now?: Date; storedBy?: string } = {},
): Promise<StoreConfigurationResult> {
  const store = context.store ?? (await openStore(options.backup.storage));
  await store.check();
  const previous = await readStoredConfiguration(store, options.app.name).catch(() => undefined);
  const document = storedConfigurationFromOptions(options, { now: context.now, previous, storedBy: context.storedBy });
  const url = await writeStoredConfiguration(store, document);
  return { document, url, created: !previous, changed: previous ? configurationDifferences(previous, document) : [] };
}
