import path from "node:path";
import {
  AppBackupError,
  fixKeysHint,
  isAppBackupError,
  loadConfig,
  readSettingsFile,
  resolveConfig,
  storageStringForm,
  type AppBackupOptions,
  type ConfigIssue,
  type ConnectionStringType,
  type DatabaseType,
  type StorageInput,
} from "../../core/index.js";
import type { ActionInputs, InlineAppInputs, InputName, Operation } from "./inputs.js";

export interface InputContext {
  /** Relative paths in inputs are relative to the workspace (the checked-out repository). */
  workspace: string;
  env: NodeJS.ProcessEnv;
}

/** Azure's connection-string type for each database type, recorded in the backup's `meta`. */
const connectionStringTypeOf: Record<DatabaseType, ConnectionStringType> = {
  PostgreSql: "PostgreSQL",
  MySql: "MySql",
  LocalMySql: "MySql",
  SqlAzure: "SQLAzure",
};

/**
 * Whether the operation needs the app's home: backup reads it, configure stores
 * it, restore writes it unless it restores into the app of target-config.
 */
function needsHome(inputs: Pick<ActionInputs, "operation" | "targetConfig">): boolean {
  return inputs.operation === "backup" || inputs.operation === "configure" || (inputs.operation === "restore" && !inputs.targetConfig);
}

/**
 * The engine's options from the Action's inputs: the `config` file through
 * `loadConfig`, or the inline inputs turned into the same configuration object
 * an app-backup.yml holds and validated by `resolveConfig`, so both paths accept
 * and reject exactly what the CLI does.
 */
export async function optionsFromInputs(inputs: ActionInputs, context: InputContext): Promise<AppBackupOptions> {
  if (inputs.config) return loadConfigInput("config", inputs.config, context);
  const raw = configFromInlineInputs(inputs.app, { operation: inputs.operation, needsHome: needsHome(inputs) }, context);
  try {
    return resolveConfig(raw, { baseDir: context.workspace, env: context.env, envSetIn: "the step's env: block" });
  } catch (error) {
    throw isAppBackupError(error) ? inTermsOfInputs(error) : error;
  }
}

/** The app a restore writes into when it is not the app the backups belong to. */
export async function targetOptionsFromInputs(inputs: ActionInputs, context: InputContext): Promise<AppBackupOptions | undefined> {
  return inputs.targetConfig ? loadConfigInput("target-config", inputs.targetConfig, context) : undefined;
}

async function loadConfigInput(input: "config" | "target-config", file: string, context: InputContext): Promise<AppBackupOptions> {
  try {
    return await loadConfig(path.resolve(context.workspace, file), context.env);
  } catch (error) {
    if (isAppBackupError(error) && error.code === "CONFIG_UNREADABLE") {
      throw new AppBackupError(
        error.code,
        error.message,
        `Set input ${input} to the path of an app-backup.yml relative to the repository root, and check the repository out first (actions/checkout).`,
      );
    }
    throw error;
  }
}

/** The app-backup.yml equivalent of the inline inputs. */
export function configFromInlineInputs(
  app: InlineAppInputs,
  { operation, needsHome }: { operation: Operation; needsHome: boolean },
  context: InputContext,
): Record<string, unknown> {
  const missing: string[] = [];
  if (!app.appName) missing.push("app-name");
  if (!app.storage) missing.push("storage");
  if (!app.home && needsHome) missing.push("home");
  if (missing.length > 0) {
    throw new AppBackupError(
      "USAGE",
      `Input${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} required for ${operation} when config is not set.`,
      "Either set config to the path of an app-backup.yml, or describe the app with inputs app-name, home and storage.",
    );
  }
  const connectionStrings: Record<string, { type: string; value: string }> = {};
  for (const db of app.databases) {
    connectionStrings[db.connectionStringName] = { type: connectionStringTypeOf[db.databaseType as DatabaseType] ?? "Custom", value: db.connectionString };
  }
  const backup: Record<string, unknown> = {
    storage: storageConfig(app.storage!, app.container),
    databases: app.databases.map((db) => ({ connectionStringName: db.connectionStringName, databaseType: db.databaseType })),
  };
  if (app.maxSize) backup.maxSize = app.maxSize;
  if (app.databaseMaxSize) backup.databaseMaxSize = app.databaseMaxSize;
  if (app.filter) backup.filter = app.filter;
  return {
    name: app.appName,
    // Operations that do not touch the home (list, verify, ...) accept a workflow without one.
    home: app.home ?? ".",
    settings: app.settingsFile ? settingsOf(path.resolve(context.workspace, app.settingsFile)) : {},
    connectionStrings,
    backup,
  };
}

/**
 * The `storage` input is one string, as in app-backup.yml, plus `container` for
 * the two forms that name an account rather than a container.
 */
export function storageConfig(storage: string, container: string | undefined): StorageInput {
  switch (storageStringForm(storage)) {
    case "folder":
      if (container) throw containerNotUsed("a local folder (file:)");
      return storage;
    case "connection-string":
      if (!container) {
        throw new AppBackupError(
          "USAGE",
          "Input storage is an Azure Storage connection string, and input container is not set.",
          "Set container to the name of the blob container that holds the backups.",
        );
      }
      return { connectionString: storage, container };
    case "account-url":
      if (container) return { accountUrl: storage, container };
      throw new AppBackupError(
        "USAGE",
        "Input storage is a URL without a SAS token, and input container is not set.",
        "Pass a container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...), or sign in with azure/login and set storage to the account URL and container to the container name.",
      );
    default:
      if (container) throw containerNotUsed("a container SAS URL");
      return storage;
  }
}

function containerNotUsed(what: string): AppBackupError {
  return new AppBackupError(
    "USAGE",
    `Input container is set, but input storage is ${what}, which names its container itself.`,
    "Remove container; it applies when storage is a connection string or an account URL.",
  );
}

/** The settings of input settings-file, read as the Pulumi resources read their settingsFile. */
function settingsOf(file: string): Record<string, string> {
  try {
    return readSettingsFile(file);
  } catch (error) {
    if (isAppBackupError(error) && error.code === "CONFIG_UNREADABLE") {
      throw new AppBackupError(error.code, error.message, "Set settings-file to a YAML or JSON file relative to the repository root.", { cause: error });
    }
    throw error;
  }
}

/** Configuration keys and the inputs they come from; the first key that holds an issue's path names its input. */
const inputOfKey: Array<[key: string, input: InputName]> = [
  ["name", "app-name"],
  ["home", "home"],
  ["backup.storage.container", "container"],
  ["backup.storage", "storage"],
  ["backup.maxSize", "max-size"],
  ["backup.databaseMaxSize", "database-max-size"],
  ["backup.filter", "filter"],
  ["backup.databases", "databases"],
  ["connectionStrings", "databases"],
  ["settings", "settings-file"],
];

const isWithin = (issuePath: string, key: string) => issuePath === key || issuePath.startsWith(`${key}.`) || issuePath.startsWith(`${key}[`);

/** An issue's key as the input that set it, with the database or setting it is about. */
function inputOf(issuePath: string): string {
  const entry = inputOfKey.find(([key]) => isWithin(issuePath, key));
  if (!entry) return issuePath || "(top level)";
  const [key, input] = entry;
  const rest = issuePath.slice(key.length);
  // `backup.databases[0]…` is the first line of input databases; `connectionStrings.MainDb…` and `settings.NAME` name theirs.
  const index = key === "backup.databases" && rest.startsWith("[") ? Number(rest.slice(1, rest.indexOf("]"))) : undefined;
  const name = (key === "connectionStrings" || key === "settings") && rest.startsWith(".") ? rest.slice(1).split(".")[0] : undefined;
  const which = index !== undefined ? ` (database ${index + 1})` : name ? ` (${name})` : "";
  return `input ${input}${which}`;
}

/** A configuration error reworded to name the inputs the user actually wrote, from the keys of its issues. */
export function inTermsOfInputs(error: AppBackupError): AppBackupError {
  if (!error.issues) return error;
  const lines = error.issues.map((issue: ConfigIssue) => `- ${inputOf(issue.path)}: ${issue.message}`);
  const hint = error.hint === fixKeysHint ? "Fix the inputs named above; action.yml describes each input and its format." : error.hint;
  return new AppBackupError(error.code, `The action's inputs are invalid:\n${lines.join("\n")}`, hint, { cause: error, issues: error.issues });
}
