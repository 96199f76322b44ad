import { formatCount, verifyBackup, verifyChecked, verifyStatus, type VerifyResult } from "../../core/index.js";
import type { AppFlags } from "../app-flags.js";
import { CommandOutput, usageError } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode } from "../exit-codes.js";
import { loadApp } from "../load-app.js";
import { progressReporter } from "../progress.js";

export interface VerifyFlags extends AppFlags {
  from?: string;
  readData?: boolean;
  json?: boolean;
}

export async function verify(io: CliIo, setExit: (code: number) => void, backup: string | undefined, flags: VerifyFlags): Promise<void> {
  const out = new CommandOutput(io, Boolean(flags.json));
  const progress = await progressReporter({ json: out.json, stream: io.stderr });
  try {
    if (!backup && !flags.from) throw usageError("Name the backup to verify, or pass --from.", "Run `app-backup list --config FILE` to see the backups.");
    const options = await loadApp(out, flags, "verify", io.env);
    const result = await verifyBackup(options, {
      backup,
      from: flags.from,
      readData: flags.readData,
      onProgress: (p) => progress.update(p),
    });
    progress.stop();
    out.result(verifyResultJson(result));
    out.print(describe(result));
    setExit(result.notRestorable ? ExitCode.failed : result.ok ? ExitCode.ok : ExitCode.mismatch);
  } catch (error) {
    progress.stop();
    setExit(out.fail(error));
  }
}

export function verifyResultJson(result: VerifyResult) {
  return {
    backup: result.backup,
    status: verifyStatus(result),
    backupStatus: result.backupStatus,
    restorable: result.restorable,
    ok: result.ok,
    readData: result.readData,
    entries: result.entries,
    entriesRead: result.entriesRead,
    bytesRead: result.bytesRead,
    differences: result.differences,
    ...(result.notRestorable ? { error: result.notRestorable } : {}),
  };
}

function describe(result: VerifyResult): string {
  if (result.notRestorable) return `${result.notRestorable}`;
  const checked = verifyChecked(result, "run with --read-data");
  if (result.ok) return `Backup ${result.backup} (${result.backupStatus}) is intact: ${checked}.`;
  return [
    `Backup ${result.backup} (${result.backupStatus}) does NOT match its manifest: ${formatCount(result.differences.length)} difference(s); it should not be restored.`,
    ...result.differences.map((d) => `  ${d.name}: ${d.difference}`),
  ].join("\n");
}
