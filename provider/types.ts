/**
 * The plain values the provider receives and returns: the resource inputs
 * after the engine resolved every `Output`, and the outputs stored in the
 * state. Credentials never appear here in resolved form: string values may be
 * `${env:VAR}` references, resolved inside the provider when it runs.
 */

import type { ConnectionStringType, DatabaseType, ScheduleInput, StorageInput } from "../core/index.js";

/** Azure's `ConnectionStringType` and `databaseType` values, as app-backup.yml takes them. */
export type { ConnectionStringType, DatabaseType };

/**
 * Where backups live, in the forms of `backup.storage` in `app-backup.yml`:
 * a container SAS URL (azure-native's `storageAccountUrl`), `"file:./folder"`,
 * `{ connectionString, container }`, `{ accountUrl, container }` (Entra ID) or `{ path }`.
 */
export type BackupStorage = StorageInput;

export interface ConnectionStringValue {
  type: ConnectionStringType;
  /** The connection string, or one built on `${env:VAR}` references (e.g. `...;Password=${env:DB_PASSWORD}`). */
  value: string;
}

/** azure-native's `DatabaseBackupSetting`: a database of the app, found through one of its connection strings. */
export interface DatabaseBackupSetting {
  connectionStringName: string;
  databaseType: DatabaseType;
  name?: string;
}

/** azure-native's `BackupSchedule`, plus `tiered`. */
export interface BackupSchedule {
  /** How often, in `frequencyUnit`s. Default 7 (Azure's API default). */
  frequencyInterval?: number;
  /** Default "Day". */
  frequencyUnit?: ScheduleInput["frequencyUnit"];
  /** Keep the newest backup even when it is older than the retention period. Default true. */
  keepAtLeastOneBackup?: boolean;
  /** Scheduled backups older than this are deleted; 0 keeps them forever. Default 30. */
  retentionPeriodInDays?: number;
  /** ISO-8601 time of the first scheduled backup. Default: when the configuration is first stored. */
  startTime?: string;
  /** Thin older scheduled backups the way Azure keeps its automatic backups. Default false. */
  tiered?: boolean;
}

/** An App Service app as a home: its name with its resource group and subscription, or its SCM site's URL. */
export interface AppServiceHome {
  appService: string;
  resourceGroup?: string;
  subscription?: string;
  slot?: string;
  /** Publishing credentials (write the password as `${env:VAR}` or pass a secret); without them Entra ID is used. */
  publishingUser?: string;
  publishingPassword?: string;
}

/** An SFTP home's login: a key (its text or a file) or a password, and the known_hosts file holding the server's key. */
export interface SftpLogin {
  privateKey?: string;
  privateKeyFile?: string;
  passphrase?: string;
  password?: string;
  knownHosts?: string;
}

/** What to back up and where: the app and its storage. */
export interface AppInputs {
  /** The app's name (Azure's site name): letters, digits and hyphens. */
  name: string;
  /**
   * The app's content: a folder (Azure's D:\home; relative paths are taken from the Pulumi project
   * folder), `sftp://user@host[:port]/path`, or an App Service app reached through Kudu.
   */
  home: string | AppServiceHome;
  /** How an `sftp://` home logs in. */
  sftp?: SftpLogin;
  storage: BackupStorage;
  /** App settings written into the backup's `meta`, as declared (`${env:VAR}` kept). */
  settings: Record<string, string>;
  connectionStrings: Record<string, ConnectionStringValue>;
  databases: DatabaseBackupSetting[];
  /** Lines of a `_backup.filter`; absent: the home's own `_backup.filter` file. */
  filter?: string[];
  /** Size limit of content + dumps, e.g. "10GB" (default) or a number of bytes. */
  maxSize?: string | number;
  /** Size limit of the database dumps, e.g. "4GB" (default). */
  databaseMaxSize?: string | number;
}

export interface BackupConfigurationInputs extends AppInputs {
  /** azure-native's `backupName`: a label of the configuration; backups are named `{name}_{yyyyMMddHHmmss}` as in Azure. */
  backupName?: string;
  /** Absent: no scheduled backups, only on-demand ones. */
  backupSchedule?: BackupSchedule;
  /** False keeps the configuration but pauses scheduled backups. Default true. */
  enabled: boolean;
}

/**
 * Outputs hold every member, an absent optional one as null: an output that
 * is missing is unknown to a preview, which would show a change to every
 * resource that takes it as an input.
 */
export type AbsentAsNull<T> = { [K in keyof T]-?: undefined extends T[K] ? Exclude<T[K], undefined> | null : T[K] };

export interface BackupConfigurationOutputs extends AbsentAsNull<BackupConfigurationInputs> {
  /** Address of the stored configuration document, without credentials. */
  configurationUrl: string;
  /** The container (or folder) holding the configuration and the backups, without credentials. */
  storageLocation: string;
  /** The home as stored in the configuration: an absolute path. */
  homePath: string;
  /** When the schedule starts: the declared startTime, or the time the schedule was first stored; null without a schedule. */
  scheduleStartTime: string | null;
}

export interface BackupInputs extends AppInputs {
  /** Any values; a change to any of them takes a new backup (the resource is replaced). */
  triggers?: unknown[];
  /** Delete the backup's zip, manifest and log when the resource is destroyed or replaced. Default false. */
  deleteOnDestroy: boolean;
  /** Where the backup was requested from, recorded in its manifest. */
  origin?: Record<string, string>;
}

export interface BackupOutputs extends AbsentAsNull<BackupInputs> {
  /** The backup's name, `{name}_{yyyyMMddHHmmss}`. */
  backupName: string;
  /** "Succeeded" or "PartiallySucceeded" (some files could not be read; see `warnings`). */
  status: string;
  zipUrl: string;
  manifestUrl: string;
  logUrl: string;
  /** Size of the zip in bytes. */
  sizeBytes: number;
  /** When the backup started (ISO-8601). */
  createdAt: string;
  storageLocation: string;
  warnings: string[];
}
