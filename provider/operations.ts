import { backupConfigurationOperations } from "./backup-configuration-operations.js";
import { backupOperations } from "./backup-operations.js";

/** What the resources' serialized providers call, by resource kind. */
export const providerOperations = {
  BackupConfiguration: backupConfigurationOperations,
  Backup: backupOperations,
};

export type ProviderOperations = typeof providerOperations;
