import path from "node:path";
import { AppBackupError, isAppBackupError, type ConfigIssue } from "../errors.js";
import type { AppBackupOptions } from "../options.js";
import { fixKeysHint } from "./issues.js";
import { resolveConfig } from "./load.js";
import type { ConnectionStringType, DatabaseType, StorageInput } from "./schema.js";
import { readSettingsFile } from "./settings-file.js";
import { storageStringForm } from "./storage.js";

/** One database to dump, described inline rather than in an app-backup.yml. */
export interface InlineDatabase {
  connectionStringName: string;
  databaseType: string;
  /** Secret: may hold a password. */
  connectionString: string;
}

/** An app described by a front end's own inputs (Action inputs, CLI flags) instead of an app-backup.yml. */
export interface InlineApp {
  appName?: string;
  /** A folder, `sftp://user@host/path`, or an App Service app's SCM URL. */
  home?: string;
  /** How an `sftp://` home logs in (secrets: a key's text, a password). */
  sftp?: { privateKey?: string; privateKeyFile?: string; passphrase?: string; password?: string; knownHosts?: string };
  /** An App Service home's publishing credentials; without them Entra ID is used. */
  publishing?: { user?: string; password?: string };
  storage?: string;
  container?: string;
  databases: InlineDatabase[];
  settingsFile?: string;
  filter?: string[];
  maxSize?: string;
  databaseMaxSize?: string;
}

/** The inline values, by the name each front end gives them. */
export type InlineKey = keyof InlineApp;

/**
 * How a front end speaks of its inputs in errors: the core decides what is
 * wrong, the front end names the input the user actually wrote.
 */
export interface InlineWording {
  /** The value as a sentence names it: "input storage", "--storage". */
  name(key: InlineKey): string;
  /** The error of required values left out. */
  missing(keys: InlineKey[]): AppBackupError;
  /** What to do when storage is a connection string and no container is named. */
  containerHint: string;
  /** What to do when storage is an account URL and no container is named. */
  accountUrlHint: string;
  /** What to do when a container is named for a storage that names its own. */
  containerNotUsedHint: string;
  /** What to do when the settings file cannot be read. */
  settingsFileHint: string;
  /** The first line of an invalid configuration's message: "The action's inputs are invalid:". */
  invalidHeading: string;
  /** The hint of invalid values, replacing the one that speaks of configuration keys. */
  invalidHint: string;
  /** Where `${env:NAME}` references in the values were looked up, for messages. */
  envSetIn?: string;
}

/** Azure's connection-string type for each database type, recorded in the backup's `meta`. */
const connectionStringTypeOf: Record<DatabaseType, ConnectionStringType> = {
  PostgreSql: "PostgreSQL",
  MySql: "MySql",
  LocalMySql: "MySql",
  SqlAzure: "SQLAzure",
};

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The engine's options of an app described inline: turned into the same
 * configuration object an app-backup.yml holds and validated by `resolveConfig`,
 * so every front end accepts and rejects exactly what a file would; each error
 * names the front end's input.
 */
export async function resolveInlineApp(
  app: InlineApp,
  { needsHome, baseDir, env, wording }: { needsHome: boolean; baseDir: string; env: NodeJS.ProcessEnv; wording: InlineWording },
): Promise<AppBackupOptions> {
  const raw = await configFromInlineApp(app, { needsHome, baseDir, wording });
  try {
    return resolveConfig(raw, { baseDir, env, envSetIn: wording.envSetIn });
  } catch (error) {
    throw isAppBackupError(error) ? inTermsOfInline(error, wording) : error;
  }
}

/** The app-backup.yml equivalent of an app described inline. */
export async function configFromInlineApp(
  app: InlineApp,
  { needsHome, baseDir, wording }: { needsHome: boolean; baseDir: string; wording: InlineWording },
): Promise<Record<string, unknown>> {
  const missing: InlineKey[] = [];
  if (!app.appName) missing.push("appName");
  if (!app.storage) missing.push("storage");
  if (!app.home && needsHome) missing.push("home");
  if (missing.length > 0) throw wording.missing(missing);
  const connectionStrings: Record<string, { type: string; value: string }> = {};
  for (const db of app.databases) {
    connectionStrings[db.connectionStringName] = { type: connectionStringTypeOf[db.databaseType as DatabaseType] ?? "Custom", value: db.connectionString };
  }
  const backup: Record<string, unknown> = {
    storage: inlineStorage(app.storage!, app.container, wording),
    databases: app.databases.map((db) => ({ connectionStringName: db.connectionStringName, databaseType: db.databaseType })),
  };
  if (app.maxSize) backup.maxSize = app.maxSize;
  if (app.databaseMaxSize) backup.databaseMaxSize = app.databaseMaxSize;
  if (app.filter) backup.filter = app.filter;
  const sftp = Object.fromEntries(Object.entries(app.sftp ?? {}).filter(([, value]) => value));
  const publishing = app.publishing?.user || app.publishing?.password ? { publishingUser: app.publishing.user, publishingPassword: app.publishing.password } : undefined;
  return {
    name: app.appName,
    // Operations that do not touch the home (list, verify, ...) accept an app without one.
    home: publishing && app.home ? { appService: app.home, ...publishing } : (app.home ?? "."),
    ...(Object.keys(sftp).length ? { sftp } : {}),
    settings: app.settingsFile ? await settingsOf(path.resolve(baseDir, app.settingsFile), wording) : {},
    connectionStrings,
    backup,
  };
}

/**
 * The storage is one string, as in app-backup.yml, plus a container for the two
 * forms that name an account rather than a container.
 */
export function inlineStorage(storage: string, container: string | undefined, wording: InlineWording): StorageInput {
  const storageName = capitalized(wording.name("storage"));
  const containerName = wording.name("container");
  const containerNotUsed = (what: string) =>
    new AppBackupError("USAGE", `${capitalized(containerName)} is set, but ${wording.name("storage")} is ${what}, which names its container itself.`, wording.containerNotUsedHint);
  switch (storageStringForm(storage)) {
    case "folder":
      if (container) throw containerNotUsed("a local folder (file:)");
      return storage;
    case "connection-string":
      if (!container) throw new AppBackupError("USAGE", `${storageName} is an Azure Storage connection string, and ${containerName} is not set.`, wording.containerHint);
      return { connectionString: storage, container };
    case "account-url":
      if (container) return { accountUrl: storage, container };
      throw new AppBackupError("USAGE", `${storageName} is a URL without a SAS token, and ${containerName} is not set.`, wording.accountUrlHint);
    default:
      if (container) throw containerNotUsed("a container SAS URL");
      return storage;
  }
}

async function settingsOf(file: string, wording: InlineWording): Promise<Record<string, string>> {
  try {
    return await readSettingsFile(file);
  } catch (error) {
    if (isAppBackupError(error) && error.code === "CONFIG_UNREADABLE") {
      throw new AppBackupError(error.code, error.message, wording.settingsFileHint, { cause: error });
    }
    throw error;
  }
}

/** Configuration keys and the inline values they come from; the first key that holds an issue's path names its value. */
const inlineKeyOf: Array<[key: string, inline: InlineKey]> = [
  ["name", "appName"],
  ["home", "home"],
  ["backup.storage.container", "container"],
  ["backup.storage", "storage"],
  ["backup.maxSize", "maxSize"],
  ["backup.databaseMaxSize", "databaseMaxSize"],
  ["backup.filter", "filter"],
  ["backup.databases", "databases"],
  ["connectionStrings", "databases"],
  ["settings", "settingsFile"],
];

const isWithin = (issuePath: string, key: string) => issuePath === key || issuePath.startsWith(`${key}.`) || issuePath.startsWith(`${key}[`);

/** An issue's key as the value that set it, with the database or setting it is about. */
function inlineNameOf(issuePath: string, wording: InlineWording): string {
  const entry = inlineKeyOf.find(([key]) => isWithin(issuePath, key));
  if (!entry) return issuePath || "(top level)";
  const [key, inline] = entry;
  const rest = issuePath.slice(key.length);
  // `backup.databases[0]…` is the first database given; `connectionStrings.MainDb…` and `settings.NAME` name theirs.
  const index = key === "backup.databases" && rest.startsWith("[") ? Number(rest.slice(1, rest.indexOf("]"))) : undefined;
  const name = (key === "connectionStrings" || key === "settings") && rest.startsWith(".") ? rest.slice(1).split(".")[0] : undefined;
  const which = index !== undefined ? ` (database ${index + 1})` : name ? ` (${name})` : "";
  return `${wording.name(inline)}${which}`;
}

/** A configuration error reworded to name the values the user actually wrote, from the keys of its issues. */
export function inTermsOfInline(error: AppBackupError, wording: InlineWording): AppBackupError {
  if (!error.issues) return error;
  const lines = error.issues.map((issue: ConfigIssue) => `- ${inlineNameOf(issue.path, wording)}: ${issue.message}`);
  const hint = error.hint === fixKeysHint ? wording.invalidHint : error.hint;
  return new AppBackupError(error.code, `${wording.invalidHeading}\n${lines.join("\n")}`, hint, { cause: error, issues: error.issues });
}
