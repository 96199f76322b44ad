import { redactorFor, resolveInlineApp, type AppBackupOptions, type InlineDatabase, type InlineKey, type InlineWording } from "../core/index.js";
import { defaultConfigFile, type AppFlags } from "./app-flags.js";
import { usageError, type CommandOutput } from "./context.js";

const flagOf: Record<InlineKey, string> = {
  appName: "--app",
  home: "--home",
  // Not flags of the CLI: an sftp:// home's login and an App Service home's credentials are set in an app-backup.yml.
  sftp: "sftp",
  publishing: "home.publishingPassword",
  storage: "--storage",
  container: "--container",
  databases: "--database",
  filter: "--filter",
  maxSize: "--max-size",
  // Not flags of the CLI: set in an app-backup.yml.
  settingsFile: "settings",
  databaseMaxSize: "backup.databaseMaxSize",
};

const inlineFlags = ["app", "home", "storage", "container", "database", "filter", "maxSize"] as const;

const flagName = (key: (typeof inlineFlags)[number]) => (key === "maxSize" ? "--max-size" : `--${key}`);

function wording(command: string): InlineWording {
  return {
    name: (key) => flagOf[key],
    missing: (keys) =>
      usageError(
        `${keys.map((key) => flagOf[key]).join(", ")} ${keys.length > 1 ? "are" : "is"} required for ${command} when the app is described by flags.`,
        `Describe the app with --app NAME --storage URL${command === "backup" || command === "restore" ? " --home DIR" : ""}, or leave those flags out to read ${defaultConfigFile} (or --config FILE).`,
      ),
    containerHint: "Pass --container NAME, the blob container that holds the backups.",
    accountUrlHint:
      "Pass a container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...) as --storage, or sign in (az login, AZURE_* variables) and pass the account URL with --container NAME.",
    containerNotUsedHint: "Leave out --container; it applies when --storage is a connection string or an account URL.",
    settingsFileHint: `Describe the app's settings in an ${defaultConfigFile} and pass it with --config.`,
    invalidHeading: "The flags describing the app are invalid:",
    invalidHint: `Fix the flags named above; \`app-backup ${command} --help\` describes each flag and its format.`,
  };
}

/**
 * `--database NAME=TYPE:CONNSTRING`: the connection string may hold `=` and `:`
 * itself, so only the first of each splits. A value that does not parse is not
 * shown: it may hold a password.
 */
export function parseDatabaseFlags(values: readonly string[]): InlineDatabase[] {
  return values.reduce<InlineDatabase[]>((previous, value) => parseDatabaseFlag(value, previous), []);
}

function parseDatabaseFlag(value: string, previous: InlineDatabase[]): InlineDatabase[] {
  const match = value.match(/^\s*([^=:\s]+)\s*=\s*([^:=\s]+)\s*:(.*)$/s);
  if (!match || !match[3]!.trim()) {
    throw usageError(
      `--database number ${previous.length + 1} is not NAME=TYPE:CONNECTION_STRING (its value is not shown, it may hold a password).`,
      "Write it like --database 'MainDb=PostgreSql:${env:MAIN_DB}' with MAIN_DB holding the connection string.",
    );
  }
  const [, name, type, connectionString] = match as unknown as [string, string, string, string];
  if (previous.some((db) => db.connectionStringName === name)) {
    throw usageError(`--database ${name} is given twice.`, "Give each connection string name once.");
  }
  return [...previous, { connectionStringName: name, databaseType: type, connectionString: connectionString.trim() }];
}

/**
 * The app's options: from the flags when any describe the app, else from
 * --config or the default file. Teaches the output's redactor the secrets first.
 */
export async function loadApp(out: CommandOutput, flags: AppFlags, command: string, env: NodeJS.ProcessEnv): Promise<AppBackupOptions> {
  const given = inlineFlags.filter((key) => flags[key] !== undefined);
  if (given.length === 0) return out.load(flags.config ?? defaultConfigFile);
  if (flags.config !== undefined) {
    throw usageError(
      `--config cannot be combined with ${given.map(flagName).join(", ")}.`,
      "Either describe the app in the configuration file, or with the flags alone.",
    );
  }
  const databases = parseDatabaseFlags(flags.database ?? []);
  for (const db of databases) out.redactor.addConnectionString(db.connectionString);
  const options = await resolveInlineApp(
    {
      appName: flags.app,
      home: flags.home,
      storage: flags.storage,
      container: flags.container,
      databases,
      filter: flags.filter,
      maxSize: flags.maxSize,
    },
    { needsHome: command === "backup" || command === "restore", baseDir: process.cwd(), env, wording: wording(command) },
  );
  out.redactor.include(redactorFor(options));
  return options;
}
