import { AppBackupError, isAppBackupError, openStore, redactPatterns, resolveConfig, type AppBackupOptions, type Redactor } from "../core/index.js";
import type { AppInputs, BackupConfigurationInputs } from "./types.js";

export type ResourceKind = "BackupConfiguration" | "Backup";

/** The inputs in the shape of `app-backup.yml`, so one validation serves the CLI, the Action and Pulumi. */
function configFileOf(inputs: AppInputs & Partial<Pick<BackupConfigurationInputs, "backupSchedule" | "enabled">>): Record<string, unknown> {
  const backup: Record<string, unknown> = { storage: inputs.storage, databases: inputs.databases };
  if (inputs.maxSize !== undefined) backup.maxSize = inputs.maxSize;
  if (inputs.databaseMaxSize !== undefined) backup.databaseMaxSize = inputs.databaseMaxSize;
  if (inputs.filter !== undefined) backup.filter = inputs.filter;
  if (inputs.enabled !== undefined) backup.enabled = inputs.enabled;
  if (inputs.backupSchedule !== undefined) backup.schedule = inputs.backupSchedule;
  return {
    name: inputs.name,
    home: inputs.home,
    ...(inputs.sftp ? { sftp: inputs.sftp } : {}),
    settings: inputs.settings,
    connectionStrings: inputs.connectionStrings,
    backup,
  };
}

/**
 * The engine's options for a resource's inputs: `${env:VAR}` references
 * resolved from the provider's environment, relative paths from the folder
 * Pulumi runs in (the project folder). Errors name the resource's inputs.
 */
export async function resolveAppOptions(
  inputs: AppInputs & Partial<Pick<BackupConfigurationInputs, "backupSchedule" | "enabled">>,
  kind: ResourceKind,
): Promise<AppBackupOptions> {
  const source = `the inputs of the app-backup ${kind}`;
  try {
    const options = resolveConfig(configFileOf(inputs), { baseDir: process.cwd(), env: process.env, source });
    // Opening the store checks the storage's form (SAS present, connection string parses) without a request.
    await openStore(options.backup.storage);
    return options;
  } catch (error) {
    throw providerError(isAppBackupError(error) ? inTermsOfInputs(error, source) : error);
  }
}

/** Configuration keys the resources name differently; every other key is the input of the same name. */
const inputOfKey: Array<[key: string, input: string]> = [
  ["backup.schedule", "backupSchedule"],
  ["backup.storage", "storage"],
  ["backup.databases", "databases"],
  ["backup.maxSize", "maxSize"],
  ["backup.databaseMaxSize", "databaseMaxSize"],
  ["backup.filter", "filter"],
  ["backup.enabled", "enabled"],
];

/** An issue's key as the resource's input: `backup.schedule.frequencyUnit` is `backupSchedule.frequencyUnit`. */
function inputOf(issuePath: string): string {
  const entry = inputOfKey.find(([key]) => issuePath === key || issuePath.startsWith(`${key}.`) || issuePath.startsWith(`${key}[`));
  return entry ? entry[1] + issuePath.slice(entry[0].length) : issuePath || "(top level)";
}

/** A configuration error naming the resource's inputs, from the keys of its issues. */
function inTermsOfInputs(error: AppBackupError, source: string): AppBackupError {
  if (!error.issues) return error;
  const lines = error.issues.map((issue) => `- ${inputOf(issue.path)}: ${issue.message}`);
  return new AppBackupError(error.code, `The configuration in ${source} is invalid:\n${lines.join("\n")}`, error.hint, { cause: error, issues: error.issues });
}

/**
 * An Error for the engine to show: the problem and what to do, with every
 * known credential and credential-shaped text masked.
 */
export function providerError(error: unknown, redactor?: Redactor): Error {
  const text = isAppBackupError(error) ? error.describe() : error instanceof Error ? error.message : String(error);
  return new Error(redactor ? redactor.redact(text) : redactPatterns(text));
}
