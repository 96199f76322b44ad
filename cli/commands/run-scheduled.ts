import type { Command } from "commander";
import { decisionJson, lockTtlFromEnv, orphanJson, redactorFor, runScheduled, type ScheduledRunResult } from "../../core/index.js";
import { CommandOutput, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { ExitCode, exitCodeForStatus } from "../exit-codes.js";
import { parseNow } from "../now.js";
import { progressReporter } from "../progress.js";
import { backupResultJson } from "./backup.js";

const examples: HelpExample[] = [
  { does: "back up if the stored schedule says one is due, then apply retention (run it hourly)", command: "app-backup run-scheduled" },
  { does: "say whether a backup is due and what retention would delete, changing nothing", command: "app-backup run-scheduled --dry-run --json" },
  { does: "evaluate the schedule at a given time", command: "app-backup run-scheduled --config /srv/shop/app-backup.yml --now 2026-12-01T02:00Z --dry-run" },
];

export function registerRunScheduled(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("run-scheduled")
    .description(
      "Run the app's scheduled backup if one is due under its stored configuration, then apply retention. Run it often (say hourly); it backs up only when due, and only one runner at a time.",
    )
    .option("-c, --config <file>", "the runner's app-backup.yml: the app's name, storage and secrets", "app-backup.yml")
    .option("--now <time>", "evaluate everything at this ISO-8601 time instead of now; the backup is named after it")
    .option("--dry-run", "say whether a backup is due and what retention would delete, changing nothing")
    .option("--json", "print one JSON result as the last stdout line, and JSON-lines progress on stderr")
    .action(async (opts: { config: string; now?: string; dryRun?: boolean; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      const progress = progressReporter({ json: out.json, stream: io.stderr });
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
    });
  withHelp(command, examples);
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
