import {
  AppBackupError,
  assertBackupNameOfApp,
  cancelOnSignals,
  formatCount,
  formatDuration,
  formatSize,
  planBackupDryRun,
  runBackup,
  type BackupDryRun,
  type BackupResult,
} from "../../core/index.js";
import type { AppFlags } from "../app-flags.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode, exitCodeForStatus } from "../exit-codes.js";
import { loadApp } from "../load-app.js";
import { progressReporter } from "../progress.js";

export interface BackupFlags extends AppFlags {
  name?: string;
  dryRun?: boolean;
  json?: boolean;
}

export async function backup(io: CliIo, setExit: (code: number) => void, opts: BackupFlags): Promise<void> {
  const out = new CommandOutput(io, Boolean(opts.json));
  const progress = await progressReporter({ json: out.json, stream: io.stderr });
  try {
    const options = await loadApp(out, opts, "backup", io.env);
    if (opts.name !== undefined) assertBackupNameOfApp(options.app.name, opts.name, "--name");
    if (opts.dryRun) {
      const plan = await planBackupDryRun(options);
      printDryRun(out, plan);
      // The backup itself would stop at the size limit: a script that checks first is told the same way.
      setExit(plan.overLimit ? ExitCode.usage : ExitCode.ok);
      return;
    }
    // A signal stops the backup before its zip is committed: the staged upload and the name's claim are given up.
    const onSignal = (signal: NodeJS.Signals) => {
      out.note(`${signal}: stopping the backup; what was staged is discarded.`);
      return new AppBackupError("INTERRUPTED", `The backup was stopped by ${signal}; nothing of it was kept.`);
    };
    const result = await cancelOnSignals(onSignal, (signal) =>
      runBackup(options, {
        name: opts.name,
        signal,
        onProgress: (p) => progress.update(p),
        onLog: (line) => {
          if (line.level !== "info") out.note(`${line.level}: ${line.message}`);
        },
      }),
    );
    progress.stop();
    printResult(out, result);
    setExit(exitCodeForStatus(result.status, result.errorCode));
  } catch (error) {
    progress.stop();
    setExit(out.fail(error));
  }
}

function printDryRun(out: CommandOutput, plan: BackupDryRun): void {
  out.result({ dryRun: true, ...plan });
  const lines = [
    `Dry run: a backup of ${plan.app} from ${plan.home} into ${plan.storage} would hold`,
    `  ${formatCount(plan.files)} files, ${formatCount(plan.folders)} folders and ${formatCount(plan.symlinks)} symlinks: ${formatSize(plan.bytes)} uncompressed`,
    plan.overLimit ? `  over the ${formatSize(plan.maxSizeBytes)} limit (backup.maxSize / --max-size): the backup would stop` : undefined,
    plan.filter.lines.length === 0
      ? "  filter: none (full backup)"
      : `  filter: ${plan.filter.lines.length} line(s) from ${plan.filter.source}`,
    ...plan.filter.lines.map(({ line, matched }) => `    ${line}: ${matched === 0 ? "matches NOTHING in the home (a typo?)" : `excludes ${formatCount(matched)} path(s)`}`),
    ...plan.unreadable.map((u) => `  cannot read ${u.path}: ${u.reason} (it would be left out)`),
    ...plan.ignored.map((u) => `  not backed up: ${u.path}: ${u.reason}`),
    plan.databases.length === 0 ? "  databases: none" : `  databases (not connected to; dumped when the backup runs):`,
    ...plan.databases.map((d) => `    ${d.connectionStringName} (${d.databaseType}): ${d.server}`),
    "Nothing was written.",
  ];
  out.print(lines.filter((l) => l !== undefined).join("\n"));
}

export function backupResultJson(result: BackupResult) {
  return {
    name: result.name,
    app: result.appName,
    status: result.status,
    trigger: result.trigger,
    zip: result.zip ?? null,
    manifest: result.manifest,
    log: result.log,
    sizeBytes: result.sizeBytes,
    files: result.files,
    contentBytes: result.contentBytes,
    databases: result.databases.map((d) => ({
      connectionStringName: d.connectionStringName,
      engine: d.engine,
      sizeBytes: d.sizeBytes,
      consistency: d.consistency,
    })),
    skipped: result.skipped,
    warnings: result.warnings,
    startedAt: result.startedAt.toISOString(),
    finishedAt: result.finishedAt.toISOString(),
    durationMs: result.durationMs,
    ...(result.error ? { error: result.error } : {}),
  };
}

function printResult(out: CommandOutput, result: BackupResult): void {
  out.result(backupResultJson(result));
  const lines = [
    `Backup ${result.name}: ${result.status} in ${formatDuration(result.durationMs)}`,
    result.zip ? `  zip:       ${result.zip}` : undefined,
    `  manifest:  ${result.manifest}`,
    `  log:       ${result.log}`,
    result.zip
      ? `  size:      ${formatSize(result.sizeBytes)} (${formatCount(result.files)} files, ${formatSize(result.contentBytes)} uncompressed)`
      : undefined,
    ...result.databases.map((d) => `  database:  ${d.connectionStringName} (${d.engine}, ${formatSize(d.sizeBytes)}, ${d.consistency})`),
    ...result.skipped.map((s) => `  not in the backup: ${s.name}: ${s.reason}`),
    result.error ? `  error:     ${result.error}` : undefined,
  ];
  out.print(lines.filter((l) => l !== undefined).join("\n"));
}
