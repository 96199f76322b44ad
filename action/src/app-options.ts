import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { loadConfig, resolveConfig } from "../../core/config/load.js";
import { describeYamlSyntaxError } from "../../core/config/yaml-syntax-error.js";
import { AppBackupError, isAppBackupError } from "../../core/errors.js";
import type { AppBackupOptions } from "../../core/options.js";
import type { ActionInputs, InlineAppInputs, Operation } from "./inputs.js";

export interface InputContext {
  /** Relative paths in inputs are relative to the workspace (the checked-out repository). */
  workspace: string;
  env: NodeJS.ProcessEnv;
}

/** Azure's connection-string type for each database type, recorded in the backup's `meta`. */
const connectionStringTypeOf: Record<string, string> = {
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
  const raw = await configFromInlineInputs(inputs.app, { operation: inputs.operation, needsHome: needsHome(inputs) }, context);
  try {
    return resolveConfig(raw, { baseDir: context.workspace, env: context.env });
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
export async function configFromInlineInputs(
  app: InlineAppInputs,
  { operation, needsHome }: { operation: Operation; needsHome: boolean },
  context: InputContext,
): Promise<Record<string, unknown>> {
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
    connectionStrings[db.connectionStringName] = { type: connectionStringTypeOf[db.databaseType] ?? "Custom", value: db.connectionString };
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
    settings: app.settingsFile ? await readSettingsFile(path.resolve(context.workspace, app.settingsFile)) : {},
    connectionStrings,
    backup,
  };
}

/**
 * The `storage` input is one string, as in app-backup.yml, plus `container` for
 * the two forms that name an account rather than a container.
 */
export function storageConfig(storage: string, container: string | undefined): unknown {
  if (/^file:/i.test(storage)) {
    if (container) throw containerNotUsed("a local folder (file:)");
    return storage;
  }
  if (/(?:^|;)\s*(?:AccountName|BlobEndpoint|DefaultEndpointsProtocol|UseDevelopmentStorage)\s*=/i.test(storage)) {
    if (!container) {
      throw new AppBackupError(
        "USAGE",
        "Input storage is an Azure Storage connection string, and input container is not set.",
        "Set container to the name of the blob container that holds the backups.",
      );
    }
    return { connectionString: storage, container };
  }
  if (/^https?:\/\/[^?]*$/i.test(storage)) {
    if (container) return { accountUrl: storage, container };
    throw new AppBackupError(
      "USAGE",
      "Input storage is a URL without a SAS token, and input container is not set.",
      "Pass a container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...), or sign in with azure/login and set storage to the account URL and container to the container name.",
    );
  }
  if (container) throw containerNotUsed("a container SAS URL");
  return storage;
}

function containerNotUsed(what: string): AppBackupError {
  return new AppBackupError(
    "USAGE",
    `Input container is set, but input storage is ${what}, which names its container itself.`,
    "Remove container; it applies when storage is a connection string or an account URL.",
  );
}

/**
 * App settings for the backup's `meta`: a YAML or JSON mapping of names to
 * values, or the array `az webapp config appsettings list` prints.
 */
export async function readSettingsFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppBackupError(
      "CONFIG_UNREADABLE",
      `Cannot read the settings file ${file}: ${code === "ENOENT" ? "it does not exist" : (error as Error).message}.`,
      "Set settings-file to a YAML or JSON file relative to the repository root.",
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw settingsInvalid(file, `it is not valid YAML or JSON: ${describeYamlSyntaxError(error)}`);
  }
  const settings: Record<string, string> = {};
  const add = (name: unknown, value: unknown, where: string) => {
    if (typeof name !== "string" || !name) throw settingsInvalid(file, `${where} has no setting name`);
    if (value !== null && typeof value === "object") throw settingsInvalid(file, `the value of ${name} is not a string, number or boolean`);
    settings[name] = value === null || value === undefined ? "" : String(value);
  };
  if (Array.isArray(raw)) {
    for (const [index, item] of raw.entries()) {
      if (item === null || typeof item !== "object") throw settingsInvalid(file, `item ${index + 1} is not {name, value}`);
      const { name, value } = item as { name?: unknown; value?: unknown };
      add(name, value, `item ${index + 1}`);
    }
  } else if (raw !== null && typeof raw === "object") {
    for (const [name, value] of Object.entries(raw)) add(name, value, "an entry");
  } else if (raw !== null && raw !== undefined) {
    throw settingsInvalid(file, "it is neither a mapping of names to values nor a list of {name, value}");
  }
  return settings;
}

function settingsInvalid(file: string, reason: string): AppBackupError {
  return new AppBackupError(
    "CONFIG_INVALID",
    `The settings file ${file} is invalid: ${reason}.`,
    "Write a mapping (NAME: value), or save the output of `az webapp config appsettings list`.",
  );
}

/** Configuration keys and the inputs they come from. */
const inputOfKey: Array<[RegExp, string]> = [
  [/^name\b/, "app-name"],
  [/^home\b/, "home"],
  [/^backup\.storage\.container\b/, "container"],
  [/^backup\.storage\b/, "storage"],
  [/^backup\.maxSize\b/, "max-size"],
  [/^backup\.databaseMaxSize\b/, "database-max-size"],
  [/^backup\.filter\b/, "filter"],
  [/^backup\.databases\b/, "databases"],
  [/^connectionStrings\b/, "databases"],
  [/^settings\b/, "settings-file"],
];

/** A configuration error reworded to name the inputs the user actually wrote. */
export function inTermsOfInputs(error: AppBackupError): AppBackupError {
  const message = error.message
    .replace(/^The configuration is invalid:/, "The action's inputs are invalid:")
    .replace(/^- ([A-Za-z.[\]0-9_-]+):/gm, (line, key: string) => {
      const input = inputOfKey.find(([pattern]) => pattern.test(key))?.[1];
      if (!input) return line;
      const detail = key.match(/^(?:connectionStrings\.|settings\.)([^.]+)/)?.[1] ?? key.match(/^backup\.databases\[(\d+)\]/)?.[1];
      const which = detail === undefined ? "" : /^\d+$/.test(detail) ? ` (database ${Number(detail) + 1})` : ` (${detail})`;
      return `- input ${input}${which}:`;
    });
  const hint = error.hint?.startsWith("Fix the keys named above")
    ? "Fix the inputs named above; action.yml describes each input and its format."
    : error.hint?.replace(/in the environment that runs app-backup/, "in the step's env: block");
  return new AppBackupError(error.code, message, hint, { cause: error });
}
