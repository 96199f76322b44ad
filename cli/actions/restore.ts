import {
  AppBackupError,
  cancelOnSignals,
  formatCount,
  formatDuration,
  formatSize,
  loadConfig,
  redactorFor,
  runRestore,
  type RestoreResult,
} from "../../core/index.js";
import { assertOneBackup } from "../backup-choice.js";
import type { AppFlags } from "../app-flags.js";
import { canAsk, confirm } from "../confirm.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode } from "../exit-codes.js";
import { loadApp } from "../load-app.js";
import { parseTime } from "../now.js";
import { progressReporter } from "../progress.js";

export interface RestoreFlags extends AppFlags {
  at?: string;
  to?: string;
  from?: string;
  ignoreDatabases?: boolean;
  restoreSettings?: boolean;
  adjustConnectionStrings?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export async function restore(io: CliIo, setExit: (code: number) => void, backup: string | undefined, flags: RestoreFlags): Promise<void> {
  const out = new CommandOutput(io, Boolean(flags.json));
  const progress = await progressReporter({ json: out.json, stream: io.stderr });
  const onSignal = (signal: NodeJS.Signals) => {
    out.note(`${signal}: stopping the restore; what was staged is discarded (a switch already under way is finished).`);
    return new AppBackupError("INTERRUPTED", `The restore was stopped by ${signal} before the switch; nothing was changed.`);
  };
  await cancelOnSignals(onSignal, async (signal) => {
    try {
      const at = parseTime("--at", flags.at);
      assertOneBackup("restore", backup, at, flags.from);
      const options = await loadApp(out, flags, "restore", io.env);
      let target = options;
      if (flags.to) {
        target = await loadConfig(flags.to, io.env);
        out.redactor.include(redactorFor(target));
      }
      const restoreOptions = {
        backup,
        at,
        from: flags.from,
        target,
        ignoreDatabases: flags.ignoreDatabases,
        restoreSettings: flags.restoreSettings,
        adjustConnectionStrings: flags.adjustConnectionStrings,
        signal,
      };
      // Someone at a terminal sees what will be written and deleted, and says yes, before anything changes.
      if (!flags.dryRun && !flags.yes && canAsk(io) && io.stderr.isTTY) {
        const plan = await runRestore(options, { ...restoreOptions, dryRun: true });
        if (!(await confirm(io, out, restoreConfirmation(plan)))) {
          out.print("Nothing was restored.");
          out.result({ ...restoreResultJson(plan), status: "Declined" });
          setExit(ExitCode.failed);
          return;
        }
      }
      const result = await runRestore(options, {
        ...restoreOptions,
        dryRun: flags.dryRun,
        onProgress: (p) => progress.update(p),
        onLog: (line) => {
          if (line.level !== "info") out.note(`${line.level}: ${line.message}`);
        },
      });
      progress.stop();
      out.result(restoreResultJson(result));
      out.print(describeResult(result));
      if (result.error) out.note(`error: ${result.error.message}`);
      setExit(result.status === "Failed" ? ExitCode.failed : ExitCode.ok);
    } catch (error) {
      progress.stop();
      setExit(out.fail(error));
    }
  });
}

function restoreConfirmation(plan: RestoreResult) {
  const databases = plan.databases.map((db) => `${db.connectionStringName}${db.target ? ` into ${db.target}` : ""}`);
  return {
    what: [
      `Restoring ${plan.backup} into ${plan.app} (${plan.home}) will`,
      `  write ${formatCount(plan.counts.written)} paths (${formatCount(plan.files)} files, ${formatSize(plan.bytes)}),`,
      `  delete ${formatCount(plan.counts.deleted)} paths that are not in the backup,`,
      `  keep ${formatCount(plan.keptByFilter.length + plan.keptOther.length)} paths as they are,`,
      databases.length > 0 ? `  and replace the content of ${databases.length} database(s): ${databases.join(", ")}.` : "  and restore no database.",
      "Run with --dry-run to see the paths.",
    ],
    question: "Proceed?",
  };
}

export function restoreResultJson(result: RestoreResult) {
  return {
    backup: result.backup,
    app: result.app,
    home: result.home,
    status: result.status,
    dryRun: result.dryRun,
    written: result.written,
    deleted: result.deleted,
    keptByFilter: result.keptByFilter,
    keptOther: result.keptOther,
    // The lists hold the first paths only; the counts are exact, and `notListed` says how many the lists leave out.
    counts: { written: result.counts.written, deleted: result.counts.deleted, keptByFilter: result.keptByFilter.length },
    notListed: { written: result.counts.written - result.written.length, deleted: result.counts.deleted - result.deleted.length },
    files: result.files,
    bytes: result.bytes,
    databases: result.databases,
    settingsRestored: result.settingsRestored,
    connectionStringsRestored: result.connectionStringsRestored,
    parts: result.parts,
    ...(result.recovered ? { recovered: result.recovered } : {}),
    warnings: result.warnings,
    ...(result.error ? { error: result.error } : {}),
    startedAt: result.startedAt.toISOString(),
    finishedAt: result.finishedAt.toISOString(),
    durationMs: result.durationMs,
  };
}

export function describeResult(result: RestoreResult): string {
  const lines: string[] = [];
  if (result.dryRun) {
    lines.push(`Dry run: restoring ${result.backup} into ${result.app} (${result.home}) would`);
    lines.push(`  write ${formatCount(result.counts.written)} paths (${formatCount(result.files)} files, ${formatSize(result.bytes)}):`);
    lines.push(...listed(result.written, result.counts.written, "+"));
    lines.push(`  delete ${formatCount(result.counts.deleted)} paths:`);
    lines.push(...listed(result.deleted, result.counts.deleted, "-"));
    lines.push(`  leave ${formatCount(result.keptByFilter.length + result.keptOther.length)} paths as they are:`);
    lines.push(...result.keptByFilter.map((p) => `    = ${p} (matches the backup's filter)`));
    lines.push(...result.keptOther.map((k) => `    = ${k.path} (${k.reason})`));
  } else {
    lines.push(`Restore of ${result.backup} into ${result.app}: ${result.status} in ${formatDuration(result.durationMs)}`);
    lines.push(`  home:      ${result.home}`);
    if (result.parts.files) {
      lines.push(`  files:     ${formatCount(result.files)} files (${formatSize(result.bytes)}) restored, ${formatCount(result.counts.deleted)} old paths deleted`);
    } else {
      lines.push("  files:     not restored (the home is as it was)");
    }
    if (result.keptByFilter.length) lines.push(`  kept:      ${result.keptByFilter.join(", ")} (matching the backup's filter)`);
  }
  for (const db of result.databases) {
    const target = db.target ? ` into ${db.target}` : "";
    lines.push(`  database:  ${db.connectionStringName} (${db.databaseType}, ${formatCount(db.tables)} tables, ${formatCount(db.rows)} rows)${target}: ${db.status}${db.error ? ` — ${db.error}` : ""}`);
  }
  if (result.settingsRestored.length) lines.push(`  settings:  ${result.dryRun ? "would write" : "wrote"} ${result.settingsRestored.join(", ")}`);
  if (result.connectionStringsRestored.length) lines.push(`  connection strings: ${result.dryRun ? "would write" : "wrote"} ${result.connectionStringsRestored.join(", ")}`);
  return lines.join("\n");
}

/** The paths a result lists, then how many it leaves out. */
function listed(paths: string[], count: number, mark: string): string[] {
  const lines = paths.map((p) => `    ${mark} ${p}`);
  if (count > paths.length) lines.push(`    ${mark} and ${formatCount(count - paths.length)} more`);
  return lines;
}
