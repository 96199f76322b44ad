import { describeInterval } from "../schedule/due.js";
import type { StoredConfiguration } from "../schedule/stored-config.js";
import { formatSize } from "./format.js";

/** The stored configuration as lines a person reads. */
export function describeConfiguration(doc: StoredConfiguration): string[] {
  const schedule = doc.backup.schedule;
  const lines = [
    `  enabled:      ${doc.backup.enabled ? "yes" : "no (no scheduled backup runs)"}`,
    `  home:         ${doc.app.home}`,
    schedule
      ? `  schedule:     ${describeInterval(schedule)} from ${schedule.startTime}${schedule.startTimeSource === "default" ? " (startTime not declared: the time the schedule was first stored)" : ""}`
      : "  schedule:     none (backup.schedule is not set; only on-demand backups)",
    schedule
      ? `  retention:    ${schedule.retentionPeriodInDays === 0 ? "forever" : `${schedule.retentionPeriodInDays} days`}${schedule.keepAtLeastOneBackup ? ", keep at least one backup" : ""}${schedule.tiered ? ", tiered" : ""}`
      : undefined,
    `  databases:    ${doc.backup.databases.map((d) => `${d.connectionStringName} (${d.databaseType})`).join(", ") || "none"}`,
    ...Object.entries(doc.app.connectionStrings).map(
      ([name, cs]) => `  connection string ${name}: ${cs.type}, ${cs.value ?? "value not stored: the runner's configuration supplies it by name"}`,
    ),
    `  filter:       ${doc.backup.filter ? `${doc.backup.filter.length} inline line(s)` : "the home's _backup.filter, if any"}`,
    `  size limits:  ${formatSize(doc.backup.maxSizeBytes)} in all, ${formatSize(doc.backup.databaseMaxSizeBytes)} of databases`,
    `  stored:       ${doc.storedAt} by ${doc.storedBy}`,
  ];
  return lines.filter((line): line is string => line !== undefined);
}
