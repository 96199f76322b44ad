import { readFile } from "node:fs/promises";
import path from "node:path";
import { safeParse } from "valibot";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions, ConnectionString } from "../options.js";
import { resolveHomeInput } from "./home.js";
import { substitutionFor, whereOf, type ConfigContext } from "./context.js";
import { configIssuesOf, fixKeysHint, invalidConfiguration } from "./issues.js";
import { configSchema, type ConfigFile } from "./schema.js";
import { storageSpecOf } from "./storage.js";
import { unreadableFile } from "./unreadable.js";
import { yamlLibrary } from "./yaml-library.js";
import { describeYamlSyntaxError } from "./yaml-syntax-error.js";

/** Reads, validates and resolves an `app-backup.yml` (YAML or JSON). */
export async function loadConfig(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<AppBackupOptions> {
  const absolute = path.resolve(configPath);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    throw unreadableFile("configuration file", absolute, error, "Pass the path of your app-backup.yml with --config.");
  }
  let raw: unknown;
  try {
    const { parse } = await yamlLibrary();
    raw = parse(text, { prettyErrors: true });
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
 * `${env:VAR}` references against `env`. A CONFIG_INVALID error carries each
 * problem at its key (`issues`), for front ends to name their own inputs.
 */
export function resolveConfig(raw: unknown, context: ConfigContext): AppBackupOptions {
  const where = whereOf(context);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new AppBackupError("CONFIG_INVALID", `The configuration${where} must be a mapping with at least "name" and "home".`);
  }
  const parsed = safeParse(configSchema, raw);
  if (!parsed.success) throw invalidConfiguration(where, configIssuesOf(parsed.issues, [], configSchema), fixKeysHint);
  const file: ConfigFile = parsed.output;
  const substitute = substitutionFor(context);

  const connectionStrings: Record<string, ConnectionString> = {};
  for (const [name, cs] of Object.entries(file.connectionStrings)) {
    connectionStrings[name] = { type: cs.type, value: substitute(cs.value, `connectionStrings.${name}.value`), declared: cs.value };
  }
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(file.settings)) settings[name] = substitute(value, `settings.${name}`);

  for (const [index, db] of file.backup.databases.entries()) {
    if (!connectionStrings[db.connectionStringName]) {
      throw invalidConfiguration(
        where,
        [
          {
            path: `backup.databases[${index}].connectionStringName`,
            message: `"${db.connectionStringName}" is not one of the app's connectionStrings (${Object.keys(connectionStrings).join(", ") || "none declared"}).`,
          },
        ],
        "Declare the connection string under connectionStrings, or fix the name.",
      );
    }
  }

  const home = resolveHomeInput(file.home, file.sftp, context, substitute);
  return {
    app: {
      name: file.name,
      home: home.home,
      ...(home.remote ? { remote: home.remote } : {}),
      settings,
      declaredSettings: { ...file.settings },
      connectionStrings,
    },
    backup: {
      storage: storageSpecOf(file.backup.storage, context, substitute),
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
