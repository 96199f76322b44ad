import type { BackupListing } from "../catalog/catalog.js";
import { formatCount, formatSize, formatUtc } from "./format.js";

/** The columns of a backup listing, newest first; each front end sets their case. */
export const listingColumns = ["Name", "Status", "Trigger", "Size", "Files", "Started (UTC)"];

export function listingRow(backup: BackupListing): string[] {
  return [backup.name, backup.status, backup.trigger, formatSize(backup.sizeBytes), formatCount(backup.files), formatUtc(backup.startedAt)];
}
