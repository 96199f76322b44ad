/** app-backup's engine: everything the CLI, the GitHub Action and the Pulumi resources do goes through here. */
export { AppBackupError, isAppBackupError, type ErrorCode, type ConfigIssue } from "./errors.js";
export type { AppBackupOptions, StorageSpec, DatabaseReference, ConnectionString } from "./options.js";
export { loadConfig, resolveConfig } from "./config/load.js";
export type { ConfigContext } from "./config/context.js";
export { resolveStorage, storageStringForm, type StorageStringForm } from "./config/storage.js";
export { readSettingsFile } from "./config/settings-file.js";
export { fixKeysHint } from "./config/issues.js";
export {
  resolveInlineApp,
  configFromInlineApp,
  inlineStorage,
  inTermsOfInline,
  type InlineApp,
  type InlineDatabase,
  type InlineKey,
  type InlineWording,
} from "./config/inline-app.js";
export { planBackupDryRun, type BackupDryRun } from "./backup/dry-run.js";
export { storageTimeoutEnvVar, storageRetryDelayEnvVar } from "./store/storage-timeouts.js";
export {
  backupDefaults,
  configSchema,
  connectionStringTypes,
  databaseTypes,
  scheduleDefaults,
  type ConfigFile,
  type FrequencyUnit,
  type ConfigFileInput,
  type ConnectionStringType,
  type DatabaseType,
  type ScheduleInput,
  type ScheduleSpec,
  type StorageInput,
} from "./config/schema.js";
export { parseSize, formatSize } from "./config/size.js";
export { runBackup, type BackupResult, type BackupRunOptions } from "./backup/backup.js";
export type { BackupProgress } from "./backup/progress.js";
export { backupNameFor, blobNames } from "./format/backup-name.js";
export { redactorFor } from "./backup/redactor.js";
export { Redactor, displayUrl, redactPatterns, secretsInConnectionString } from "./secrets.js";
export {
  listBackups,
  listingJson,
  readManifest,
  readManifestSummary,
  deleteBackup,
  backupObjectsOf,
  findBackupAt,
  assertBackupNameOfApp,
  type BackupListing,
} from "./catalog/catalog.js";
export type { BackupManifest, ManifestSummary, BackupStatus, BackupTrigger, DatabaseRecord } from "./format/manifest.js";
export { openStore } from "./store/open.js";
export { federatedCredential, type FederatedCredentialOptions, type TokenCredential } from "./store/azure-credential.js";
export { listAll } from "./store/store.js";
export type { Store, StoredObject, StagedUpload, CallOptions } from "./store/store.js";
export { toolVersion } from "./version.js";
export type { Locker, LockAttempt, LockOptions, StoreLock } from "./store/locker.js";
export {
  storedConfigurationFromOptions,
  storedConfigurationName,
  writeStoredConfiguration,
  readStoredConfiguration,
  requireStoredConfiguration,
  deleteStoredConfiguration,
  optionsFromStoredConfiguration,
  configurationDifferences,
  type StoredConfiguration,
  type StoredSchedule,
} from "./schedule/stored-config.js";
export { storeConfiguration, type StoreConfigurationResult } from "./schedule/configure.js";
export { decideDue, intervalMs, type DueDecision, type ScheduleTiming, type ScheduledBackupRef } from "./schedule/due.js";
export { planRetention, retentionTiers, type RetentionPolicy, type RetentionDecision, type RetentionRule, type RetentionCandidate } from "./schedule/retention.js";
export { pruneBackups, retentionPolicyOf, type PruneResult } from "./schedule/prune.js";
export { runScheduled, type ScheduledRunOptions, type ScheduledRunResult } from "./schedule/run.js";
export { withAppLock, lockNameFor, lockTtlFromEnv, lockTtlEnvVar, defaultLockTtlMs, type AppLockOptions } from "./schedule/lock.js";
export { runRestore, type RestoreResult, type RestoreRunOptions, type RestoreProgress, type RestoreStatus } from "./restore/restore.js";
export { verifyBackup, type VerifyResult, type VerifyRunOptions } from "./restore/verify.js";
export { openBackupSource, type BackupSource, type BackupSelection } from "./restore/source.js";
export { recoverInterruptedRestore, type Recovery } from "./restore/switch.js";
export type { DatabaseOutcome } from "./restore/databases.js";
export type { Difference } from "./restore/compare.js";
export type { EntryTable } from "./archive/entry-table.js";
export { restorableStatuses } from "./format/manifest.js";
export { CONTENT_PREFIX, META_ENTRY } from "./format/zip-layout.js";
export { storageSecrets } from "./backup/redactor.js";
export { pruneApp } from "./schedule/prune.js";
export { deleteAppBackup, type DeleteBackupRun } from "./schedule/delete.js";
export { orphanJson, type Orphan, type OrphanRule } from "./schedule/orphans.js";
export { keepMemorySmall } from "./archive/native-memory.js";
export { byCodeUnits } from "./code-unit-order.js";
export { restoreHomeOf } from "./restore/home.js";
export { removePartialUploads, settleInterruptedRestore, type PartialUploads, type SettledRestore } from "./step/interrupted.js";
export { cancelOnSignals } from "./step/signals.js";
export type { Progress } from "./progress.js";
export type { Fact } from "./report/facts.js";
export { formatCount, formatDuration, formatUtc } from "./report/format.js";
export { listingColumns, listingRow, listingsByApp } from "./report/listing.js";
export { decisionRow, decisionJson, type DecisionRow } from "./report/retention.js";
export { describeConfiguration } from "./report/configuration.js";
export { backupFacts, backupDatabaseColumns, backupDatabaseRows } from "./report/backup.js";
export { restoreFacts, restoreDatabaseColumns, restoreDatabaseRows } from "./report/restore.js";
export { verifyStatus, verifyChecked, type VerifyStatus } from "./report/verify.js";
export { ExitCode, exitCodeTable, exitCodeForError, exitCodeForStatus, type ExitCodeValue } from "./report/exit-codes.js";
