import { decisionJson, lockTtlFromEnv, orphanJson, redactorFor, runScheduled, type ScheduledRunResult } from "../../core/index.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode, exitCodeForStatus } from "../exit-codes.js";
import { parseNow } from "../now.js";
import { progressReporter } from "../progress.js";
import { backupResultJson } from "./backup.js";

export interface RunScheduledFlags {
  config: string;
  now?: string;
  dryRun?: boolean;
  json?: boolean;
}

export async function runScheduledCommand(io: CliIo, setExit: (code: number) => void, opts: RunScheduledFlags): Promise<void> {
  const out = new CommandOutput(io, Boolean(opts.json));
  const progress = await progressReporter({ json: out.json, stream: io.stderr });
  try {
    const now = parseNow(opts.now);
    const lockTtlMs = lockTtlFromEnv(io.env);
    const runner = await out.load(opts.config);
    const result = await runScheduled(runner, {
      now,
      dryRun: opts.dryRun,
      env: io.env,
      lockTtlMs,
      origin: { runner: "app-backup run-scheduled" },
      onResolved: (options) => out.redactor.include(redactorFor(options)),
      onWarning: (message) => out.note(`warning: ${message}`),
      onProgress: (p) => progress.update(p),
      onLog: (line) => {
        if (line.level !== "info") out.note(`${line.level}: ${line.message}`);
      },
    });
    progress.stop();
    if (result.differences.length > 0) {
      out.note(
        `note: ${opts.config} differs from the stored configuration on ${result.differences.join(", ")}; the stored one is used. Run \`app-backup configure --config ${opts.config}\` to store the file's.`,
      );
    }
    for (const failure of result.pruneFailures) out.note(`error: retention could not delete ${failure.name}: ${failure.error}`);
    out.result(scheduledRunResultJson(result));
    out.print(describe(result));
    if (result.backup) setExit(exitCodeForStatus(result.backup.status, result.backup.errorCode));
    else setExit(result.pruneFailures.length > 0 ? ExitCode.failed : ExitCode.ok);
  } catch (error) {
    progress.stop();
    setExit(out.fail(error));
  }
}

/** The `--json` result of run-scheduled, for front ends that print the same shape. */
export function scheduledRunResultJson(result: ScheduledRunResult) {
  return {
    app: result.appName,
    now: result.now.toISOString(),
    dryRun: result.dryRun,
    enabled: result.enabled,
    due: result.due,
    reason: result.reason,
    slot: result.slot?.toISOString() ?? null,
    nextDueAt: result.nextDueAt?.toISOString() ?? null,
    missedSlots: result.missedSlots,
    lastScheduled: result.lastScheduled ? { name: result.lastScheduled.name, startedAt: result.lastScheduled.startedAt.toISOString() } : null,
    backup: result.backup ? backupResultJson(result.backup) : null,
    pruned: result.pruned.map(decisionJson),
    prunedOrphans: result.prunedOrphans.map(orphanJson),
    pruneFailures: result.pruneFailures,
    differences: result.differences,
    warnings: result.warnings,
  };
}

function describe(result: ScheduledRunResult): string {
  const lines = [
    `${result.appName} at ${result.now.toISOString()}: ${result.due ? (result.dryRun ? "a scheduled backup is due (dry run: not run)" : "a scheduled backup is due") : "no scheduled backup due"}.`,
    `  ${result.reason}`,
  ];
  if (result.backup) {
    const b = result.backup;
    lines.push(`Backup ${b.name}: ${b.status}${b.zip ? ` (${b.zip})` : ""}${b.error ? `: ${b.error}` : ""}`);
  }
  if (result.enabled && result.schedule) {
    const verb = result.dryRun ? "would delete" : "deleted";
    if (result.pruned.length === 0) lines.push(`Retention ${verb} nothing.`);
    else lines.push(`Retention ${verb} ${result.pruned.length} backup(s):`, ...result.pruned.map((d) => `  ${d.name}: ${d.reason}`));
    if (result.prunedOrphans.length > 0) {
      lines.push(`Retention ${verb} what ${result.prunedOrphans.length} unfinished backup(s) left:`, ...result.prunedOrphans.map((o) => `  ${o.objects.join(", ")}: ${o.reason}`));
    }
  }
  return lines.join("\n");
}
