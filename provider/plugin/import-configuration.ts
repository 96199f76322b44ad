import { AppBackupError, openStore, readStoredConfiguration, storedConfigurationName } from "../../core/index.js";
import { providerError, resolveAppOptions } from "../app-options.js";
import { backupConfigurationOperations, inputsOfDocument } from "../backup-configuration-operations.js";
import type { BackupConfigurationOutputs } from "../types.js";

const documentSuffix = storedConfigurationName("");

/**
 * A stored configuration, found by its id (its `configurationUrl`) in the
 * provider's default storage, as `pulumi import` records it: the inputs that
 * declare the document as it is, and the outputs of a refresh.
 */
export async function importConfiguration(id: string, storage: string | undefined) {
  if (!storage) {
    throw providerError(
      new AppBackupError(
        "USAGE",
        `Cannot import the BackupConfiguration ${id}: app-backup finds it in the provider's default storage, and none is set.`,
        "Set it to the container holding the configuration with `pulumi config set --secret app-backup:storage <container SAS URL or file:./folder>`, then import again.",
      ),
    );
  }
  const name = appNameOf(id);
  const options = await resolveAppOptions({ name, home: ".", storage, settings: {}, connectionStrings: {}, databases: [] }, "BackupConfiguration");
  const store = await openStore(options.backup.storage);
  if (store.urlOf(storedConfigurationName(name)) !== id) {
    throw providerError(
      new AppBackupError(
        "USAGE",
        `Cannot import the BackupConfiguration ${id}: it is not in the provider's default storage, ${store.location}.`,
        `Import it by its configurationUrl in that storage (${store.urlOf(storedConfigurationName(name))}), or set app-backup:storage to the container holding it.`,
      ),
    );
  }
  const document = await readStoredConfiguration(store, name);
  if (!document) return {};
  const recorded = { ...inputsOfDocument(document, storage), storageLocation: store.location } as unknown as BackupConfigurationOutputs;
  return backupConfigurationOperations.read(id, recorded);
}

/** The app's name in a configuration document's address: `.../{name}.backup-config.json`. */
function appNameOf(id: string): string {
  let file: string;
  try {
    file = decodeURIComponent(new URL(id).pathname.split("/").pop() ?? "");
  } catch {
    file = "";
  }
  if (!file.endsWith(documentSuffix) || file === documentSuffix) {
    throw new Error(
      `Cannot import the BackupConfiguration "${id}": its id is the address of its stored document, ending in /{app}${documentSuffix} (the configurationUrl output, e.g. https://account.blob.core.windows.net/websitebackups/shop${documentSuffix}).`,
    );
  }
  return file.slice(0, -documentSuffix.length);
}
