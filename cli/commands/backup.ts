import type { Command } from "commander";
import { assertBackupNameOfApp, formatCount, formatDuration, formatSize, runBackup, type BackupResult } from "../../core/index.js";
import { CommandOutput, type CliIo } from "../context.js";
import { exitCodeForStatus } from "../exit-codes.js";
import { progressReporter } from "../progress.js";

export function registerBackup(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("backup")
    .description("Back up the app's content, configuration and databases into its container.")
    .option("-c, --config <file>", "the app's app-backup.yml", "app-backup.yml")
    .option("--name <name>", "backup name instead of {app}_{yyyyMMddHHmmss}; it must start with {app}_")
    .option("--json", "print one JSON result as the last stdout line, and JSON-lines progress on stderr")
    .action(async (opts: { config: string; name?: string; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      const progress = progressReporter({ json: out.json, stream: io.stderr });
      try {
        const options = await out.load(opts.config);
        if (opts.name !== undefined) assertBackupNameOfApp(options.app.name, opts.name, "--name");
        const result = await runBackup(options, {
          name: opts.name,
          onProgress: (p) => progress.update(p),
          onLog: (line) => {
            if (line.level !== "info") out.note(`${line.level}: ${line.message}`);
          },
        });
        progress.stop();
        printResult(out, result);
        setExit(exitCodeForStatus(result.status));
      } catch (error) {
        progress.stop();
        setExit(out.fail(error));
      }
    });
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
