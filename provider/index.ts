/**
 * app-backup's Pulumi resources: `BackupConfiguration` (Azure's
 * WebAppBackupConfiguration, stored in the backup container) and `Backup`
 * (an on-demand backup taken when the resource is created).
 */
export { BackupConfiguration, type BackupConfigurationArgs, type BackupScheduleArgs } from "./backup-configuration.js";
export { Backup, type BackupArgs, type BackupSnapshotArgs } from "./backup.js";
export type { AppArgs, BackupStorageArgs, ConnectionStringArgs, DatabaseBackupSettingArgs } from "./app-args.js";
export type {
  AppInputs,
  BackupConfigurationInputs,
  BackupConfigurationOutputs,
  BackupInputs,
  BackupOutputs,
  BackupSchedule,
  BackupStorage,
  ConnectionStringType,
  ConnectionStringValue,
  DatabaseBackupSetting,
  DatabaseType,
} from "./types.js";
export { scheduleDefaults } from "./normalize.js";
/** What the providers serialized into the state call when they run; not for use in programs. */
export { providerOperations, type ProviderOperations } from "./operations.js";
