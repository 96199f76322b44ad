import {
  CONTENT_PREFIX,
  formatCount,
  formatDuration,
  formatSize,
  formatUtc,
  openBackupSource,
  restorableStatuses,
  type BackupSource,
  type EntryTable,
} from "../../core/index.js";
import { assertOneBackup } from "../backup-choice.js";
import type { AppFlags } from "../app-flags.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode } from "../exit-codes.js";
import { loadApp } from "../load-app.js";
import { parseTime } from "../now.js";
import { table } from "../table.js";

export interface ShowFlags extends AppFlags {
  at?: string;
  from?: string;
  json?: boolean;
}

export async function show(io: CliIo, setExit: (code: number) => void, backup: string | undefined, flags: ShowFlags): Promise<void> {
  const out = new CommandOutput(io, Boolean(flags.json));
  try {
    const at = parseTime("--at", flags.at);
    assertOneBackup("show", backup, at, flags.from);
    const options = await loadApp(out, flags, "show", io.env);
    const source = await openBackupSource(options, { backup, at, from: flags.from });
    out.result(showJson(source));
    out.print(describe(source));
    setExit(ExitCode.ok);
  } catch (error) {
    setExit(out.fail(error));
  }
}

function entryCounts(entries: EntryTable) {
  const counts = { files: 0, folders: 0, symlinks: 0, other: 0 };
  for (let index = 0; index < entries.count; index++) {
    const kind = entries.kind(index);
    if (!entries.names.startsWith(index, CONTENT_PREFIX)) counts.other++;
    else if (kind === "directory") counts.folders++;
    else if (kind === "symlink") counts.symlinks++;
    else counts.files++;
  }
  return counts;
}

export function showJson(source: BackupSource) {
  const m = source.manifest;
  return {
    name: m.backupName,
    app: m.appName,
    status: m.status,
    restorable: restorableStatuses.has(m.status) && m.zip !== undefined,
    trigger: m.trigger,
    startedAt: m.startedAt.toISOString(),
    finishedAt: m.finishedAt.toISOString(),
    durationMs: m.finishedAt.getTime() - m.startedAt.getTime(),
    toolVersion: m.toolVersion,
    zip: m.zip ? { name: m.zip.name, url: source.store.urlOf(source.zipName), sizeBytes: m.zip.sizeBytes } : null,
    manifest: source.store.urlOf(source.manifestName),
    contentBytes: m.contentBytes,
    files: m.files,
    entries: entryCounts(source.entries),
    filter: m.filter,
    databases: m.databases.map((d) => ({
      connectionStringName: d.connectionStringName,
      databaseType: d.databaseType,
      entry: d.entry,
      engine: d.engine,
      serverVersion: d.serverVersion,
      database: d.database,
      consistency: d.consistency,
      sizeBytes: d.sizeBytes,
      sha256: d.sha256,
      tables: d.tables,
      rows: d.tables.reduce((sum, t) => sum + t.rows, 0),
      notCovered: d.notCovered,
      warnings: d.warnings,
    })),
    skipped: m.skipped,
    warnings: m.warnings,
    origin: m.origin,
    ...(m.error !== undefined ? { error: m.error } : {}),
  };
}

function describe(source: BackupSource): string {
  const m = source.manifest;
  const counts = entryCounts(source.entries);
  const lines = [
    `Backup ${m.backupName}`,
    `  app:        ${m.appName}`,
    `  status:     ${m.status}${restorableStatuses.has(m.status) && m.zip ? "" : " (not restorable)"}`,
    `  trigger:    ${m.trigger}`,
    `  started:    ${utc(m.startedAt)}`,
    `  finished:   ${utc(m.finishedAt)} (${formatDuration(m.finishedAt.getTime() - m.startedAt.getTime())})`,
    `  tool:       app-backup ${m.toolVersion}`,
    m.zip ? `  zip:        ${source.store.urlOf(source.zipName)} (${formatSize(m.zip.sizeBytes)})` : "  zip:        none",
    `  manifest:   ${source.store.urlOf(source.manifestName)}`,
    `  content:    ${formatCount(counts.files)} files, ${formatCount(counts.folders)} folders, ${formatCount(counts.symlinks)} symlinks; ${formatSize(m.contentBytes)} uncompressed`,
  ];
  if (m.error) lines.push(`  error:      ${m.error}`);
  if (m.filter.lines.length) {
    lines.push(`  filter:     partial backup, ${m.filter.lines.length} line(s) from ${m.filter.source}`);
    for (const line of m.filter.lines) lines.push(`              ${line}`);
  } else {
    lines.push("  filter:     none (full backup)");
  }
  if (m.databases.length === 0) lines.push("  databases:  none");
  for (const d of m.databases) {
    const rows = d.tables.reduce((sum, t) => sum + t.rows, 0);
    lines.push(
      `  database:   ${d.connectionStringName} (${d.databaseType}; ${d.engine} ${d.serverVersion}; database ${d.database}; ${formatSize(d.sizeBytes)}; ${formatCount(d.tables.length)} tables, ${formatCount(rows)} rows; ${d.consistency})`,
    );
    if (d.tables.length) {
      const rendered = table(["TABLE", "ROWS"], d.tables.map((t) => [t.name, formatCount(t.rows)]));
      for (const line of rendered.split("\n")) lines.push(`              ${line}`);
    }
    if (d.notCovered.length) lines.push(`              not covered by the consistent snapshot: ${d.notCovered.join(", ")}`);
    for (const warning of d.warnings) lines.push(`              warning: ${warning}`);
  }
  if (m.skipped.length) {
    lines.push(`  skipped:    ${m.skipped.length} file(s) not in the backup:`);
    for (const s of m.skipped) lines.push(`              ${s.name}: ${s.reason}`);
  }
  if (m.warnings.length) {
    lines.push("  warnings:");
    for (const w of m.warnings) lines.push(`              ${w}`);
  }
  const origin = Object.entries(m.origin);
  if (origin.length) {
    lines.push("  origin:");
    for (const [key, value] of origin) lines.push(`              ${key}: ${value}`);
  }
  return lines.join("\n");
}

const utc = (date: Date) => `${formatUtc(date)} UTC`;
