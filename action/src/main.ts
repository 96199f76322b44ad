import { rm } from "node:fs/promises";
import * as core from "@actions/core";
import { context } from "@actions/github";
import { AppBackupError, cancelOnSignals, ExitCode, exitCodeForError, isAppBackupError, keepMemorySmall, type AppBackupOptions } from "../../core/index.js";
import { optionsFromInputs, targetOptionsFromInputs } from "./app-options.js";
import { signedInOptions, withContainerFromStorageUrl } from "./azure-sign-in.js";
import { readInputs, type ActionInputs } from "./inputs.js";
import { paragraph } from "./markdown.js";
import { SecretMasker } from "./masking.js";
import { backupOperation } from "./operations/backup.js";
import { configureOperation } from "./operations/configure.js";
import { deleteOperation } from "./operations/delete.js";
import { listOperation } from "./operations/list.js";
import { pruneOperation } from "./operations/prune.js";
import { restoreOperation } from "./operations/restore.js";
import { runScheduledOperation } from "./operations/run-scheduled.js";
import { verifyOperation } from "./operations/verify.js";
import { originFromContext, runContextOf } from "./origin.js";
import type { OperationOutcome, Reporter } from "./reporter.js";
import { createStepTempDir, type StateStore } from "./temporary-files.js";

/**
 * The Action's main step: inputs → the engine's options → one operation, with
 * every secret masked before anything is printed. Never throws: a failure is
 * reported with `core.setFailed` (an `::error::` annotation and exit code 1).
 */
export async function run(): Promise<void> {
  keepMemorySmall();
  const masker = new SecretMasker((secret) => core.setSecret(secret));
  const state: StateStore = { save: (name, value) => core.saveState(name, value), get: (name) => core.getState(name) };
  const report = reporter(masker, state);
  let tempDir: string | undefined;
  let operation = "backup";
  try {
    // Credentials in the raw inputs are masked before parsing can fail and print anything.
    masker.addRawInputs(core.getInput("storage"), core.getInput("databases"));
    // A key is masked line by line too: the runner matches a log line against each mask.
    const keyLines = core.getInput("ssh-key").split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith("-----"));
    masker.add([...["ssh-key", "ssh-password", "publishing-password"].map((name) => core.getInput(name).trim()).filter(Boolean), ...keyLines]);
    const inputs = readInputs((name) => core.getInput(name));
    operation = inputs.operation;
    tempDir = await createStepTempDir(state);
    const context = { workspace: process.env.GITHUB_WORKSPACE || process.cwd(), env: process.env };
    const oidc = { getIdToken: (audience: string) => core.getIDToken(audience), onToken: (token: string) => masker.add([token]), env: process.env };
    const options = signedInOptions(await optionsFromInputs(withContainerFromStorageUrl(inputs), context), inputs.azureSignIn, oidc);
    masker.addOptions(options);
    const target = await targetOptionsFromInputs(inputs, context);
    if (target) masker.addOptions(target);
    const outcome = await runOperation(inputs, options, target, report);
    if (outcome.failure) fail(masker.redact(outcome.failure), outcome.exitCode ?? ExitCode.failed);
    else report.output("exit-code", ExitCode.ok);
  } catch (error) {
    const message = masker.redact(describeError(error, masker));
    fail(message, exitCodeForError(isAppBackupError(error) ? error.code : undefined));
    await report.summary(`### ❌ app-backup: ${operation} failed\n\n${paragraph(message)}\n`);
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function runOperation(
  inputs: ActionInputs,
  options: AppBackupOptions,
  target: AppBackupOptions | undefined,
  report: Reporter,
): Promise<OperationOutcome> {
  const origin = () => originFromContext(runContextOf(context));
  switch (inputs.operation) {
    case "backup":
      return backupOperation(options, { backupName: inputs.backupName, failOnPartial: inputs.failOnPartial, origin: origin() }, report);
    case "verify":
      return verifyOperation(options, { backupName: inputs.backupName, readData: inputs.readData }, report);
    case "restore":
      return cancelOnSignals(cancelledRestore, (signal) =>
        restoreOperation(
          options,
          {
            backupName: inputs.backupName,
            target,
            ignoreDatabases: inputs.ignoreDatabases,
            restoreSettings: inputs.restoreSettings,
            adjustConnectionStrings: inputs.adjustConnectionStrings,
            dryRun: inputs.dryRun,
            signal,
          },
          report,
        ),
      );
    case "list":
      return listOperation(options, { limit: inputs.listLimit }, report);
    case "configure":
      return configureOperation(options, report);
    case "run-scheduled":
      return runScheduledOperation(options, { dryRun: inputs.dryRun, failOnPartial: inputs.failOnPartial, origin: origin(), env: process.env }, report);
    case "prune":
      return pruneOperation(options, { dryRun: inputs.dryRun, env: process.env }, report);
    case "delete":
      return deleteOperation(options, { backupName: inputs.backupName, env: process.env }, report);
  }
}

/**
 * The runner's cancellation (SIGINT, then SIGTERM) aborts a restore: staging
 * stops and is discarded, and the step ends before the runner kills it. Other
 * operations keep Node's default: the signal ends the process, and the post
 * step removes what it left.
 */
function cancelledRestore(signal: NodeJS.Signals): Error {
  core.info(`${signal}: stopping the restore; what was staged is discarded (a switch already under way is finished).`);
  return new AppBackupError("INTERRUPTED", `The step was cancelled (${signal}) before the restore switched; nothing was changed.`);
}

/**
 * Fails the step with the CLI's exit code for the same failure (README: "Exit
 * codes"), as the process's own and as the `exit-code` output, so a later step
 * or a wrapping script tells a retryable outage from a mistake to fix.
 */
function fail(message: string, exitCode: number): void {
  core.setFailed(message);
  core.setOutput("exit-code", String(exitCode));
  process.exitCode = exitCode;
}

function describeError(error: unknown, masker: SecretMasker): string {
  // Hints that name another command name the Action's operation instead.
  if (isAppBackupError(error)) return error.describe((name) => `\`operation: ${name}\``);
  // The stack's first line is the message, which may quote a path, a URL or a connection string.
  if (error instanceof Error && error.stack) core.debug(masker.redact(error.stack));
  return `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

/** Everything an operation writes goes through the masker's redaction first. */
function reporter(masker: SecretMasker, state: StateStore): Reporter {
  const safe = (text: string | number) => masker.redact(String(text));
  return {
    info: (text) => core.info(safe(text)),
    warning: (text) => core.warning(safe(text)),
    output: (name, value) => core.setOutput(name, safe(value)),
    async summary(markdown) {
      // Outside a runner there is no summary file; the log has the same facts.
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(safe(markdown)).write();
    },
    learnSecrets: (options) => masker.addOptions(options),
    state: { save: (name, value) => state.save(name, safe(value)), get: state.get },
  };
}
