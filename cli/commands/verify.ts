import type { Command } from "commander";
import { formatCount, verifyBackup, verifyChecked, verifyStatus, type VerifyResult } from "../../core/index.js";
import { addAppFlags, loadApp, type AppFlags } from "../app-flags.js";
import { CommandOutput, usageError, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { ExitCode } from "../exit-codes.js";
import { progressReporter } from "../progress.js";

const examples: HelpExample[] = [
  { does: "check the newest backup's zip against its manifest", command: "app-backup verify latest" },
  { does: "read every entry of a backup and check its SHA-256 too", command: "app-backup verify shop_20261130020000 --read-data --json" },
  { does: "check a backup downloaded by hand", command: "app-backup verify --from ./shop_20261130020000.zip" },
];

export function registerVerify(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("verify")
    .argument("[backup]", "the backup's name, or `latest`; optional with --from")
    .description("Check a backup's zip against its manifest (names, sizes, CRC-32, kinds); with --read-data, every entry's SHA-256 too.");
  addAppFlags(command, "storage")
    .option("--from <path>", "check a .zip and .xml downloaded by hand (the .zip, the .xml or their common stem)")
    .option("--read-data", "read every entry and check its size, CRC-32 and SHA-256")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (backup: string | undefined, flags: AppFlags & { from?: string; readData?: boolean; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(flags.json));
      const progress = progressReporter({ json: out.json, stream: io.stderr });
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
    });
  withHelp(command, examples, "file-or-flags");
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
