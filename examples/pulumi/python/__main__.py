"""Nightly backups of a web app with 30-day retention, and a backup before every release, in Python.

Needs the provider plugin and its Python SDK (pulumi_app_backup):
    pulumi plugin install resource app-backup 0.1.0 --file pulumi-resource-app-backup-v0.1.0-linux-amd64.tar.gz
    pulumi package add app-backup@0.1.0
"""

import pulumi
import pulumi_app_backup as app_backup

config = pulumi.Config()

nightly = app_backup.BackupConfiguration(
    "nightly",
    name=config.get("appName") or "shop",
    home=config.require("appHome"),
    # Encrypted in the stack's configuration and in the state: pulumi config set --secret backupStorage "https://...?sv=...&sig=..."
    storage=config.require_secret("backupStorage"),
    settings={"WEBSITE_TIME_ZONE": "UTC"},
    # Every night at 02:00 UTC; scheduled backups older than 30 days are deleted, the newest one always stays.
    backup_schedule=app_backup.BackupScheduleArgs(
        frequency_interval=1,
        frequency_unit="Day",
        start_time="2026-01-01T02:00:00Z",
        retention_period_in_days=30,
        keep_at_least_one_backup=True,
    ),
)

# A snapshot of the same app before each release: a new releaseVersion takes a new backup, and the earlier ones stay.
before_release = app_backup.Backup(
    "before-release",
    name=nightly.name,
    home=nightly.home,
    storage=nightly.storage,
    triggers=[config.require("releaseVersion")],
)

pulumi.export("configurationUrl", nightly.configuration_url)
pulumi.export("nextScheduledBackupsFrom", nightly.schedule_start_time)
pulumi.export("releaseBackup", before_release.backup_name)
pulumi.export("releaseBackupZip", before_release.zip_url)
pulumi.export("releaseBackupStatus", before_release.status)
