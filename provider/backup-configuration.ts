import * as pulumi from "@pulumi/pulumi";
import type { FrequencyUnit } from "../core/index.js";
import { appInputsOf, withSecretOutputs, type AppArgs } from "./app-args.js";
import { backupConfigurationProvider } from "./serialized-providers.js";
import type { BackupSchedule, BackupStorage, ConnectionStringValue, DatabaseBackupSetting, SftpLogin } from "./types.js";

/** azure-native's `BackupSchedule` (plus `tiered`); see `BackupSchedule` for the defaults. */
export interface BackupScheduleArgs {
  frequencyInterval?: pulumi.Input<number>;
  frequencyUnit?: pulumi.Input<FrequencyUnit>;
  keepAtLeastOneBackup?: pulumi.Input<boolean>;
  retentionPeriodInDays?: pulumi.Input<number>;
  startTime?: pulumi.Input<string>;
  tiered?: pulumi.Input<boolean>;
}

/** Inputs in the shape of azure-native's `web.WebAppBackupConfiguration`, plus the app itself. */
export interface BackupConfigurationArgs extends AppArgs {
  /** A label of the configuration, as in azure-native; backups are named `{name}_{yyyyMMddHHmmss}`. */
  backupName?: pulumi.Input<string>;
  /**
   * When to back up and how long to keep scheduled backups. Left-out members take Azure's
   * API defaults: every 7 Days, 30 days' retention, keepAtLeastOneBackup true, tiered false;
   * startTime defaults to when the configuration is first stored. Without a schedule the
   * configuration serves on-demand backups only.
   */
  backupSchedule?: pulumi.Input<BackupScheduleArgs>;
  /** False keeps the configuration but pauses its scheduled backups. Default true. */
  enabled?: pulumi.Input<boolean>;
}

/**
 * An app's backup configuration (Azure's WebAppBackupConfiguration), stored as
 * a document in the backup container where `app-backup run-scheduled` (or the
 * GitHub Action) finds it. Deleting the resource removes that document and
 * keeps every backup. Moving it to another container (or renaming the app)
 * replaces it.
 */
export class BackupConfiguration extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly home: pulumi.Output<string>;
  /** The sftp:// home's login (secret); null for another home. */
  declare readonly sftp: pulumi.Output<SftpLogin | null>;
  declare readonly storage: pulumi.Output<BackupStorage>;
  declare readonly settings: pulumi.Output<Record<string, string>>;
  declare readonly connectionStrings: pulumi.Output<Record<string, ConnectionStringValue>>;
  declare readonly databases: pulumi.Output<DatabaseBackupSetting[]>;
  declare readonly filter: pulumi.Output<string[] | null>;
  declare readonly maxSize: pulumi.Output<string | number | null>;
  declare readonly databaseMaxSize: pulumi.Output<string | number | null>;
  declare readonly backupName: pulumi.Output<string | null>;
  /** The schedule in effect, defaults filled in; null without one. */
  declare readonly backupSchedule: pulumi.Output<BackupSchedule | null>;
  declare readonly enabled: pulumi.Output<boolean>;
  /** Address of the stored configuration document, without credentials. */
  declare readonly configurationUrl: pulumi.Output<string>;
  /** The container (or folder) of the configuration and the backups, without credentials. */
  declare readonly storageLocation: pulumi.Output<string>;
  /** The home as stored: an absolute path. */
  declare readonly homePath: pulumi.Output<string>;
  /** When the schedule starts: the declared startTime, or when the schedule was first stored; null without a schedule. */
  declare readonly scheduleStartTime: pulumi.Output<string | null>;

  constructor(name: string, args: BackupConfigurationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      backupConfigurationProvider,
      name,
      {
        ...appInputsOf(args),
        backupName: args.backupName,
        backupSchedule: args.backupSchedule,
        enabled: args.enabled,
        configurationUrl: undefined,
        storageLocation: undefined,
        homePath: undefined,
        scheduleStartTime: undefined,
      },
      withSecretOutputs(opts),
      "app-backup",
      "BackupConfiguration",
    );
  }
}
