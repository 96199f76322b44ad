import { isAppBackupError, openStore, redactPatterns, resolveConfig, type AppBackupOptions, type Redactor } from "../core/index.js";
import type { AppInputs, BackupConfigurationInputs } from "./types.js";

export type ResourceKind = "BackupConfiguration" | "Backup";

/** The inputs in the shape of `app-backup.yml`, so one validation serves the CLI, the Action and Pulumi. */
function configFileOf(
  inputs: AppInputs & Partial<Pick<BackupConfigurationInputs, "backupSchedule" | "enabled">>,
  ): Record<string, unknown> {
  const backup: Record<string, unknown> = { storage: inputs.storage, databases: inputs.databases };
  if (inputs.maxSize !== undefined) backup.maxSize = inputs.maxSize;
  if (inputs.databaseMaxSize !== undefined) backup.databaseMaxSize = inputs.databaseMaxSize;
  if (inputs.filter !== undefined) backup.filter = inputs.filter;
  if (inputs.enabled !== undefined) backup.enabled = inputs.enabled;
  if (inputs.backupSchedule !== undefined) backup.schedule = inputs.backupSchedule;
  return {
    name: inputs.name,
    home: inputs.home,
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
  try {
    const options = resolveConfig(configFileOf(inputs), { baseDir: process.cwd(), env: process.env, source: `the inputs of the app-backup ${kind}` });
    // Opening the store checks the storage's form (SAS present, connection string parses) without a request.
    await openStore(options.backup.storage);
    return options;
  } catch (error) {
    throw providerError(error);
  }
}

/** Config file keys as the resource calls them. */
function inputNames(text: string): string {
  return text
    .replace(/\bbackup\.schedule\b/g, "backupSchedule")
    .replace(/\bbackup\.(storage|databases|maxSize|databaseMaxSize|filter|enabled)\b/g, "$1");
}

/**
 * An Error for the engine to show: the problem and what to do, in input
 * names, with every known credential and credential-shaped text masked.
 */
export function providerError(error: unknown, redactor?: Redactor): Error {
  const text = isAppBackupError(error) ? error.describe() : error instanceof Error ? error.message : String(error);
  const redacted = redactor ? redactor.redact(text) : redactPatterns(text);
  return new Error(inputNames(redacted));
}
