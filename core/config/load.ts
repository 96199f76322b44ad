import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { safeParse } from "valibot";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions, ConnectionString, StorageSpec } from "../options.js";
import { substituteEnv } from "./env-substitution.js";
import { describeIssues } from "./issues.js";
import { configSchema, type ConfigFile } from "./schema.js";
import { describeYamlSyntaxError } from "./yaml-syntax-error.js";

/** Reads, validates and resolves an `app-backup.yml` (YAML or JSON). */
export async function loadConfig(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<AppBackupOptions> {
  const absolute = path.resolve(configPath);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppBackupError(
      "CONFIG_UNREADABLE",
      `Cannot read the configuration file ${absolute}: ${code === "ENOENT" ? "it does not exist" : (error as Error).message}.`,
      "Pass the path of your app-backup.yml with --config.",
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new AppBackupError(
      "CONFIG_UNREADABLE",
      `The configuration file ${absolute} is not valid YAML or JSON: ${describeYamlSyntaxError(error)}.`,
      "Fix the syntax at the line and column named.",
    );
  }
  return resolveConfig(raw, { baseDir: path.dirname(absolute), env, source: absolute });
}

/**
 * Validates a configuration object (from a file, Action inputs or Pulumi inputs)
 * and resolves it into the engine's options: paths against `baseDir`,
 * `${env:VAR}` references against `env`.
 */
export function resolveConfig(
  raw: unknown,
  context: { baseDir: string; env?: NodeJS.ProcessEnv; source?: string },
): AppBackupOptions {
  const env = context.env ?? process.env;
  const where = context.source ? ` in ${context.source}` : "";
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new AppBackupError("CONFIG_INVALID", `The configuration${where} must be a mapping with at least "name" and "home".`);
  }
  const parsed = safeParse(configSchema, raw);
  if (!parsed.success) {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `The configuration${where} is invalid:\n${describeIssues(parsed.issues)}`,
      "Fix the keys named above; see the README for every key and its format.",
    );
  }
  const file: ConfigFile = parsed.output;
  // Settings may be empty; a path, a storage or a connection string that is empty is a missing secret.
  const substitute = (value: string, key: string) => substituteEnv(value, { key, requireNonEmpty: !key.startsWith("settings.") }, env, where);

  const connectionStrings: Record<string, ConnectionString> = {};
  for (const [name, cs] of Object.entries(file.connectionStrings)) {
    connectionStrings[name] = { type: cs.type, value: substitute(cs.value, `connectionStrings.${name}.value`), declared: cs.value };
  }
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(file.settings)) settings[name] = substitute(value, `settings.${name}`);

  for (const [index, db] of file.backup.databases.entries()) {
    if (!connectionStrings[db.connectionStringName]) {
      throw new AppBackupError(
        "CONFIG_INVALID",
        `The configuration${where} is invalid:\n- backup.databases[${index}].connectionStringName: "${db.connectionStringName}" is not one of the app's connectionStrings (${Object.keys(connectionStrings).join(", ") || "none declared"}).`,
        "Declare the connection string under connectionStrings, or fix the name.",
      );
    }
  }

  return {
    app: {
      name: file.name,
      home: path.resolve(context.baseDir, substitute(file.home, "home")),
      settings,
      declaredSettings: { ...file.settings },
      connectionStrings,
    },
    backup: {
      storage: resolveStorage(file.backup.storage, context.baseDir, substitute),
      databases: file.backup.databases,
      maxSizeBytes: file.backup.maxSize,
      databaseMaxSizeBytes: file.backup.databaseMaxSize,
      filter: file.backup.filter,
      enabled: file.backup.enabled,
      schedule: file.backup.schedule,
    },
    configPath: context.source,
  };
}

function resolveStorage(
  storage: ConfigFile["backup"]["storage"],
  baseDir: string,
  substitute: (value: string, key: string) => string,
): StorageSpec {
  if (typeof storage === "string") {
    const value = substitute(storage, "backup.storage");
    if (/^file:/i.test(value)) {
      const target = value.startsWith("file://") ? new URL(value).pathname : value.slice("file:".length);
      return { kind: "local", path: path.resolve(baseDir, target) };
    }
    if (!/^https?:\/\//i.test(value)) {
      throw new AppBackupError(
        "CONFIG_INVALID",
        "The configuration is invalid:\n- backup.storage: the value from the environment is neither a container SAS URL nor file:./folder.",
        "Set the variable to https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS or file:./folder.",
      );
    }
    return { kind: "azure-sas", containerUrl: value };
  }
  if ("path" in storage) return { kind: "local", path: path.resolve(baseDir, substitute(storage.path, "backup.storage.path")) };
  if ("connectionString" in storage) {
    return {
      kind: "azure-connection-string",
      connectionString: substitute(storage.connectionString, "backup.storage.connectionString"),
      container: substitute(storage.container, "backup.storage.container"),
    };
  }
  return {
    kind: "azure-identity",
    accountUrl: substitute(storage.accountUrl, "backup.storage.accountUrl"),
    container: substitute(storage.container, "backup.storage.container"),
  };
}
