import path from "node:path";
import { AppBackupError, isAppBackupError, loadConfig, resolveInlineApp, type AppBackupOptions, type InlineKey, type InlineWording } from "../../core/index.js";
import type { ActionInputs, InputName, Operation } from "./inputs.js";

export interface InputContext {
  /** Relative paths in inputs are relative to the workspace (the checked-out repository). */
  workspace: string;
  env: NodeJS.ProcessEnv;
}

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
  return resolveInlineApp(inputs.app, { needsHome: needsHome(inputs), baseDir: context.workspace, env: context.env, wording: inputWording(inputs.operation) });
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

/** Inputs as the Action's messages name them. */
const inputOf: Record<InlineKey, InputName> = {
  appName: "app-name",
  home: "home",
  sftp: "ssh-key",
  publishing: "publishing-password",
  storage: "storage",
  container: "container",
  databases: "databases",
  settingsFile: "settings-file",
  filter: "filter",
  maxSize: "max-size",
  databaseMaxSize: "database-max-size",
};

/** How the Action's errors name its inputs. */
export function inputWording(operation: Operation): InlineWording {
  return {
    name: (key) => `input ${inputOf[key]}`,
    missing: (keys) => {
      const names = keys.map((key) => inputOf[key]);
      return new AppBackupError(
        "USAGE",
        `Input${names.length > 1 ? "s" : ""} ${names.join(", ")} ${names.length > 1 ? "are" : "is"} required for ${operation} when config is not set.`,
        "Either set config to the path of an app-backup.yml, or describe the app with inputs app-name, home and storage.",
      );
    },
    containerHint: "Set container to the name of the blob container that holds the backups.",
    accountUrlHint:
      "Pass a container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...), or sign in with azure/login and set storage to the account URL and container to the container name.",
    containerNotUsedHint: "Remove container; it applies when storage is a connection string or an account URL.",
    settingsFileHint: "Set settings-file to a YAML or JSON file relative to the repository root.",
    invalidHeading: "The action's inputs are invalid:",
    invalidHint: "Fix the inputs named above; action.yml describes each input and its format.",
    envSetIn: "the step's env: block",
  };
}
