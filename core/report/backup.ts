import type { BackupResult } from "../backup/backup.js";
import type { Fact } from "./facts.js";
import { formatCount, formatDuration, formatSize } from "./format.js";

export function backupFacts(result: BackupResult): Fact[] {
  return [
    ["App", result.appName],
    ["Status", result.status],
    ["Size", result.zip ? `${formatSize(result.sizeBytes)} zip, ${formatSize(result.contentBytes)} uncompressed` : undefined],
    ["Files", formatCount(result.files)],
    ["Databases", result.databases.length ? String(result.databases.length) : undefined],
    ["Duration", formatDuration(result.durationMs)],
    ["Zip", result.zip],
    ["Manifest", result.manifest],
    ["Log", result.log],
    ["Error", result.error],
  ];
}

export const backupDatabaseColumns = ["Connection string", "Engine", "Size", "Tables", "Consistency"];

export function backupDatabaseRows(result: BackupResult): Array<Array<string | number>> {
  return result.databases.map((d) => [d.connectionStringName, d.engine, formatSize(d.sizeBytes), d.tables.length, d.consistency]);
}
