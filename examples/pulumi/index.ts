import * as pulumi from "@pulumi/pulumi";
import { Backup, BackupConfiguration } from "app-backup/provider";

const config = new pulumi.Config();
const mainDb = config.requireObject<{ host: string; port?: number; database: string; user: string }>("mainDb");

const nightly = new BackupConfiguration("nightly", {
  name: config.get("appName") ?? "shop",
  home: config.require("appHome"),
  // Encrypted in the stack's configuration and in the state: pulumi config set --secret backupStorage "https://...?sv=...&sig=..."
  storage: config.requireSecret("backupStorage"),
  settings: { WEBSITE_TIME_ZONE: "UTC" },
  connectionStrings: {
    MainDb: {
      type: "PostgreSQL",
      // The password never enters the program or the state: app-backup reads SHOP_DB_PASSWORD when it runs,
      // here and in the scheduled runner. (In a template literal, write the reference as \${env:SHOP_DB_PASSWORD}.)
      value: `Host=${mainDb.host};Port=${mainDb.port ?? 5432};Database=${mainDb.database};Username=${mainDb.user};` + "Password=${env:SHOP_DB_PASSWORD}",
    },
  },
  databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }],
  // Every night at 02:00 UTC; scheduled backups older than 30 days are deleted, the newest one always stays.
  backupSchedule: {
    frequencyInterval: 1,
    frequencyUnit: "Day",
    startTime: "2026-01-01T02:00:00Z",
    retentionPeriodInDays: 30,
    keepAtLeastOneBackup: true,
  },
});

// A snapshot of the same app before each release: a new releaseVersion takes a new backup, and the earlier ones stay.
const beforeRelease = new Backup("before-release", {
  configuration: nightly,
  triggers: [config.require("releaseVersion")],
});

export const configurationUrl = nightly.configurationUrl;
export const nextScheduledBackupsFrom = nightly.scheduleStartTime;
export const releaseBackup = beforeRelease.backupName;
export const releaseBackupZip = beforeRelease.zipUrl;
export const releaseBackupStatus = beforeRelease.status;
