import { decisionJson, decisionRow, lockTtlFromEnv, orphanJson, pruneApp } from "../../core/index.js";
import type { AppFlags } from "../app-flags.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode } from "../exit-codes.js";
import { loadApp } from "../load-app.js";
import { parseNow } from "../now.js";
import { table } from "../table.js";

export interface PruneFlags extends AppFlags {
  dryRun?: boolean;
  now?: string;
  json?: boolean;
}

export async function prune(io: CliIo, setExit: (code: number) => void, opts: PruneFlags): Promise<void> {
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
}
