import type { RestoreResult } from "../restore/restore.js";
import type { Fact } from "./facts.js";
import { formatCount, formatDuration, formatSize } from "./format.js";

export function restoreFacts(result: RestoreResult): Fact[] {
  return [
    ["Status", result.status],
    ["Home", result.home],
    [
      result.dryRun ? "Would write" : "Files",
      result.dryRun || result.parts.files
        ? `${formatCount(result.files)} files (${formatSize(result.bytes)}), ${formatCount(result.counts.deleted)} old paths ${result.dryRun ? "to delete" : "deleted"}`
        : "not restored (the home is as it was)",
    ],
    ["Kept by the backup's filter", result.keptByFilter.join(", ") || undefined],
    ["Settings", result.settingsRestored.join(", ") || undefined],
    ["Connection strings", result.connectionStringsRestored.join(", ") || undefined],
    ["Duration", formatDuration(result.durationMs)],
    ["Error", result.error?.message],
  ];
}

export const restoreDatabaseColumns = ["Connection string", "Type", "Tables", "Rows", "Into", "Status"];

export function restoreDatabaseRows(result: RestoreResult): Array<Array<string | number>> {
  return result.databases.map((d) => [d.connectionStringName, d.databaseType, d.tables, d.rows, d.target ?? "", d.error ? `${d.status}: ${d.error}` : d.status]);
}
