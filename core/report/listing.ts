import type { BackupListing } from "../catalog/listing.js";
import { formatCount, formatSize, formatUtc } from "./format.js";

/** The columns of a backup listing, newest first; each front end sets their case. */
export const listingColumns = ["Name", "Status", "Trigger", "Size", "Files", "Started (UTC)", "Content", "Tool"];

export function listingRow(backup: BackupListing): string[] {
  return [
    backup.name,
    backup.status,
    backup.trigger,
    formatSize(backup.sizeBytes),
    formatCount(backup.files),
    formatUtc(backup.startedAt),
    formatSize(backup.contentBytes),
    backup.toolVersion,
  ];
}

/** Listings of several apps (already sorted by app), one group per app in the order met. */
export function listingsByApp(backups: BackupListing[]): Array<{ appName: string; backups: BackupListing[] }> {
  const groups: Array<{ appName: string; backups: BackupListing[] }> = [];
  for (const backup of backups) {
    const last = groups.at(-1);
    if (last?.appName === backup.appName) last.backups.push(backup);
    else groups.push({ appName: backup.appName, backups: [backup] });
  }
  return groups;
}
