/** The catalog of a container: listing, finding a backup by time, deleting. Each stage lives in its own file. */
export { appPrefixOf, assertBackupNameOfApp, isBackupNameOfApp } from "./app-names.js";
export { groupBackupObjects, collectBackupObjects, type BackupObjects } from "./backup-objects.js";
export { listBackups, listingsOf, listingJson, type BackupListing, type ListBackupsOptions } from "./listing.js";
export { assertManifestOf } from "./manifest-checks.js";
export { readManifest, readManifestSummary } from "./manifests.js";
export { findBackupAt, isRestorable, type FindBackupOptions } from "./find-at.js";
export { backupObjectsOf, deleteBackup } from "./delete.js";
