import type { Command } from "commander";
import { decisionJson, decisionRow, lockTtlFromEnv, orphanJson, pruneApp } from "../../core/index.js";
import { addAppFlags, loadApp, type AppFlags } from "../app-flags.js";
import { CommandOutput, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { ExitCode } from "../exit-codes.js";
import { parseNow } from "../now.js";
import { table } from "../table.js";

const examples: HelpExample[] = [
  { does: "say which backups retention would delete and why, deleting nothing", command: "app-backup prune --dry-run" },
  { does: "apply the stored retention to the app of a configuration file", command: "app-backup prune --config /srv/shop/app-backup.yml" },
  { does: "judge ages at a given time, as JSON", command: "app-backup prune --dry-run --now 2026-12-01T00:00Z --json" },
];

export function registerPrune(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("prune")
    .description(
      "Apply the stored schedule's retention: delete scheduled backups past retentionPeriodInDays (zip, manifest and log together), saying for every backup whether it is kept or deleted and why. On-demand backups are never deleted.",
    );
  addAppFlags(command, "storage", "the app's app-backup.yml (its name and storage say where to look; default: app-backup.yml)")
    .option("--dry-run", "say what would be deleted, deleting nothing")
    .option("--now <time>", "judge ages at this ISO-8601 time instead of now")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (opts: AppFlags & { dryRun?: boolean; now?: string; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      try {
        const now = parseNow(opts.now) ?? new Date();
        const lockTtlMs = lockTtlFromEnv(io.env);
        const options = await loadApp(out, opts, "prune", io.env);
        const appName = options.app.name;
        const { location, policy, result } = await pruneApp(options, {
          now,
          dryRun: opts.dryRun,
          lockTtlMs,
          onWarning: (m) => out.note(`warning: ${m}`),
        });
        if (!result) {
          out.result({ app: appName, now: now.toISOString(), dryRun: Boolean(opts.dryRun), policy: null, backups: [], deleted: [], orphans: [], failures: [] });
          out.print(`The stored configuration of ${appName} has no backup.schedule, so no retention applies; nothing was deleted.`);
          setExit(ExitCode.ok);
          return;
        }

        for (const failure of result.failures) out.note(`error: could not delete ${failure.name}: ${failure.error}`);
        out.result({
          app: appName,
          now: now.toISOString(),
          dryRun: Boolean(opts.dryRun),
          policy,
          backups: result.decisions.map(decisionJson),
          deleted: result.deleted.map((d) => d.name),
          orphans: result.orphans.map(orphanJson),
          failures: result.failures,
        });
        const failed = new Set(result.failures.map((f) => f.name));
        const verb = opts.dryRun ? "would delete" : "deleted";
        const orphanLines = result.orphans.length
          ? [`Retention ${verb} what ${result.orphans.length} unfinished backup(s) left:`, ...result.orphans.map((o) => `  ${o.objects.join(", ")}: ${o.reason} (rule ${o.rule})`)]
          : [];
        out.print(
          result.decisions.length === 0
            ? [`No backups of ${appName} in ${location}.`, ...orphanLines].join("\n")
            : [
                table(
                  ["NAME", "TRIGGER", "STATUS", "STARTED (UTC)", "ACTION", "RULE"],
                  result.decisions
                    .map((d) => decisionRow(d, { dryRun: Boolean(opts.dryRun), failed }))
                    .map((row) => [row.name, row.trigger, row.status, row.started, row.action, row.rule]),
                ),
                ...result.decisions.map((d) => `  ${d.name}: ${d.reason}`),
                `Retention ${verb} ${result.deleted.length} of ${result.decisions.length} backup(s).`,
                ...orphanLines,
              ].join("\n"),
        );
        setExit(result.failures.length > 0 ? ExitCode.failed : ExitCode.ok);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
  withHelp(command, examples, "file-or-flags");
}
