import type { GenericSchema } from "valibot";
import { configSchema } from "../../core/index.js";
import { backupConfigurationKeys, backupKeys, optionalBackupConfigurationOutputs, optionalBackupOutputs } from "../normalize.js";
import { ValibotToPulumi, type PulumiObjectType, type PulumiProperty } from "./valibot-types.js";

export const packageName = "app-backup";
const tokenPrefix = `${packageName}:index:`;
export const backupConfigurationToken = `${tokenPrefix}BackupConfiguration`;
export const backupToken = `${tokenPrefix}Backup`;

/** Inputs that may carry a credential: secret in the state, in inputs and outputs alike. */
export const secretInputs = ["storage", "sftp", "connectionStrings", "settings"] as const;

/** The configuration key behind each resource input that `app-backup.yml` also has. */
const configKeyOfInput: Record<string, string> = {
  name: "name",
  home: "home",
  sftp: "sftp",
  settings: "settings",
  connectionStrings: "connectionStrings",
  storage: "backup.storage",
  databases: "backup.databases",
  filter: "backup.filter",
  maxSize: "backup.maxSize",
  databaseMaxSize: "backup.databaseMaxSize",
  backupSchedule: "backup.schedule",
  enabled: "backup.enabled",
};

/** Names of the object types the configuration schema holds, by key path. */
const objectTypeNames: Record<string, string> = {
  "home|1": "AppServiceHome",
  sftp: "SftpLogin",
  "connectionStrings{}": "ConnectionString",
  "backup.storage|1": "ConnectionStringStorage",
  "backup.storage|2": "AccountUrlStorage",
  "backup.storage|3": "FolderStorage",
  "backup.databases[]": "DatabaseBackupSetting",
  "backup.schedule": "BackupSchedule",
};

/** What each input, output and object type means; types and defaults come from the configuration schema. */
const descriptions: Record<string, string> = {
  name: "The app's name (Azure's site name): letters, digits and hyphens, at most 60. Backups are named `{name}_{yyyyMMddHHmmss}`.",
  home: "The app's content: a folder (Azure's D:\\home; relative to the Pulumi project folder), `sftp://user@host[:port]/path` (with `sftp`), or an App Service app `{appService, resourceGroup, subscription}` or its SCM URL, read and written through Kudu; `${env:VAR}` allowed.",
  sftp: "How an `sftp://` home logs in: `privateKey` or `privateKeyFile` (and `passphrase`), or `password` (warned), and `knownHosts` (default ~/.ssh/known_hosts; the host key is always checked). Always secret.",
  "home|1": "An App Service app as a home: its name with `resourceGroup` and `subscription` (and `slot`), or its SCM URL; `publishingUser`/`publishingPassword`, else Entra ID.",
  storage:
    'Where backups go: a container SAS URL, `"file:./folder"`, `{connectionString, container}`, `{accountUrl, container}` (Entra ID) or `{path}`. Default: the provider\'s `app-backup:storage`. Always secret.',
  settings: "App settings written into the backup's `meta`, as Azure keeps them; `${env:VAR}` allowed. Always secret.",
  connectionStrings: "The app's connection strings by name, as in Azure; write passwords as `${env:VAR}` or pass secrets. Always secret.",
  databases: "Databases to dump into each backup, each through one of `connectionStrings`.",
  filter: "`_backup.filter` lines (paths to leave out); default: the home's own `_backup.filter`.",
  maxSize: 'Size limit of content + dumps, e.g. "10GB" (the default) or a number of bytes.',
  databaseMaxSize: 'Size limit of the database dumps, e.g. "4GB" (the default).',
  backupName: "A label of the configuration, as in azure-native; backups are named `{name}_{yyyyMMddHHmmss}`.",
  backupSchedule:
    "When to back up and how long to keep scheduled backups; left-out members take Azure's API defaults. Without a schedule the configuration serves on-demand backups only.",
  enabled: "False keeps the configuration but pauses its scheduled backups.",
  triggers: "Any values: when one changes, a new backup is taken (the resource is replaced), e.g. `[releaseVersion]`.",
  deleteOnDestroy: "Delete the backup (zip, manifest and log) when the resource is destroyed or replaced. Default false: it stays.",
  configurationUrl: "Address of the stored configuration document, without credentials.",
  storageLocation: "The container (or folder) holding the configuration and the backups, without credentials.",
  homePath: "The home as stored in the configuration: an absolute path.",
  scheduleStartTime: "When the schedule starts: the declared startTime, or when the schedule was first stored; null without a schedule.",
  backupName_: "The backup's name, `{name}_{yyyyMMddHHmmss}`.",
  status: '"Succeeded", or "PartiallySucceeded" when some files could not be read (see `warnings`).',
  zipUrl: "Address of the backup's zip, without credentials.",
  manifestUrl: "Address of the backup's XML manifest, without credentials.",
  logUrl: "Address of the backup's log, without credentials.",
  sizeBytes: "Size of the zip in bytes.",
  createdAt: "When the backup started (ISO-8601).",
  warnings: "Files that could not be read, and other warnings of the backup.",
  origin: "Where the backup was requested from (project, stack, resource), as recorded in its manifest.",
  "connectionStrings{}": "A connection string of the app, as Azure keeps it.",
  "connectionStrings{}.type": "Azure's connection-string type: MySql, SQLServer, SQLAzure, PostgreSQL, Custom, ...",
  "connectionStrings{}.value": "The connection string; a password may be a `${env:VAR}` reference.",
  "backup.storage|1": "A storage account connection string and a container.",
  "backup.storage|2": "A storage account URL and a container, reached with Entra ID (DefaultAzureCredential).",
  "backup.storage|3": "A local folder used as the container.",
  "backup.databases[]": "azure-native's DatabaseBackupSetting: a database of the app, found through one of its connection strings.",
  "backup.databases[].databaseType": "SqlAzure, MySql, LocalMySql or PostgreSql.",
  "backup.schedule": "azure-native's BackupSchedule, plus `tiered`.",
  "backup.schedule.frequencyInterval": "How often, in `frequencyUnit`s.",
  "backup.schedule.frequencyUnit": '"Day" or "Hour".',
  "backup.schedule.startTime": "ISO-8601 time of the first scheduled backup. Default: when the configuration is first stored.",
  "backup.schedule.retentionPeriodInDays": "Scheduled backups older than this are deleted; 0 keeps them forever.",
  "backup.schedule.keepAtLeastOneBackup": "Keep the newest backup even when it is older than the retention period.",
  "backup.schedule.tiered": "Thin older scheduled backups the way Azure keeps its automatic backups.",
};

/** Inputs of the resources that `app-backup.yml` does not have. */
const resourceOnlyInputs: Record<string, PulumiProperty> = {
  backupName: { type: "string" },
  triggers: { type: "array", items: { $ref: "pulumi.json#/Any" } },
  deleteOnDestroy: { type: "boolean", default: false },
};

const backupConfigurationOutputs: Record<string, PulumiProperty> = {
  configurationUrl: { type: "string" },
  storageLocation: { type: "string" },
  homePath: { type: "string" },
  scheduleStartTime: { type: "string" },
};

const backupOutputs: Record<string, PulumiProperty> = {
  backupName: { type: "string" },
  status: { type: "string" },
  zipUrl: { type: "string" },
  manifestUrl: { type: "string" },
  logUrl: { type: "string" },
  sizeBytes: { type: "number" },
  createdAt: { type: "string" },
  storageLocation: { type: "string" },
  warnings: { type: "array", items: { type: "string" } },
  origin: { type: "object", additionalProperties: { type: "string" } },
};

/** Inputs the provider fills in itself: the Backup's origin comes from its URN. */
const providerSetInputs = ["origin"];

interface ResourceSpec {
  description: string;
  inputProperties: Record<string, PulumiProperty>;
  requiredInputs: string[];
  properties: Record<string, PulumiProperty>;
  required: string[];
}

function configEntry(path: string): GenericSchema {
  let node = configSchema as unknown as { type: string; wrapped?: unknown; entries?: Record<string, unknown> };
  for (const key of path.split(".")) {
    while (node.type === "optional") node = node.wrapped as typeof node;
    node = node.entries![key] as typeof node;
  }
  return node as unknown as GenericSchema;
}

function describe(key: string, property: PulumiProperty, outputsOnly = false): PulumiProperty {
  const description = descriptions[outputsOnly && descriptions[`${key}_`] ? `${key}_` : key];
  return {
    ...property,
    ...(description ? { description } : {}),
    ...((secretInputs as readonly string[]).includes(key) ? { secret: true } : {}),
  };
}

function resourceSpec(
  translate: ValibotToPulumi,
  description: string,
  inputKeys: readonly string[],
  outputs: Record<string, PulumiProperty>,
  optionalOutputs: readonly string[],
): ResourceSpec {
  const inputProperties: Record<string, PulumiProperty> = {};
  const requiredInputs: string[] = [];
  for (const key of inputKeys.filter((key) => !providerSetInputs.includes(key))) {
    const configKey = configKeyOfInput[key];
    if (configKey) {
      const entry = configEntry(configKey);
      let property = translate.property(entry, configKey);
      // Absent, the storage comes from the provider's configuration rather than the file default.
      if (key === "storage") property = { ...property, default: undefined };
      inputProperties[key] = describe(key, JSON.parse(JSON.stringify(property)));
      if (ValibotToPulumi.isRequired(entry)) requiredInputs.push(key);
    } else if (resourceOnlyInputs[key]) {
      inputProperties[key] = describe(key, resourceOnlyInputs[key]);
    } else {
      throw new Error(`The resource input ${key} has no type in the package schema; add it to resourceOnlyInputs.`);
    }
  }
  const properties: Record<string, PulumiProperty> = { ...inputProperties };
  for (const [key, property] of Object.entries(outputs)) properties[key] = describe(key, property, true);
  // The provider fills in every default: only the optional outputs may be null.
  const required = Object.keys(properties).filter((key) => !optionalOutputs.includes(key));
  return { description, inputProperties, requiredInputs, properties, required };
}

/** The Pulumi package schema of app-backup's provider plugin. */
export function packageSchema(version: string): Record<string, unknown> {
  const translate = new ValibotToPulumi({ tokenPrefix, nameOf: (path) => objectTypeNames[path], describe: (path) => descriptions[path] });
  const resources: Record<string, ResourceSpec> = {
    [backupConfigurationToken]: resourceSpec(
      translate,
      "An app's backup configuration (Azure's WebAppBackupConfiguration), stored as a document in the backup container where `app-backup run-scheduled` (or the GitHub Action) finds it. Deleting the resource removes that document and keeps every backup. Another app name or container replaces it.",
      backupConfigurationKeys,
      backupConfigurationOutputs,
      optionalBackupConfigurationOutputs,
    ),
    [backupToken]: resourceSpec(
      translate,
      "An on-demand backup taken when the resource is created: a snapshot before a migration or a deploy. New `triggers` take a new one; other changes only apply to the next one. A failed backup fails the `up` with its log. Destroying it keeps the backup unless `deleteOnDestroy`.",
      backupKeys,
      backupOutputs,
      optionalBackupOutputs,
    ),
  };
  const storageConfig: PulumiProperty = {
    type: "string",
    secret: true,
    description: "Where backups go when a resource has no `storage` input: a container SAS URL or `file:./folder`. Set it with `pulumi config set --secret app-backup:storage ...`.",
  };
  return {
    name: packageName,
    displayName: "app-backup",
    version,
    description: "Back up a web app's content, configuration and databases to Azure Blob Storage or a local folder, as Azure App Service's Backup does.",
    license: "MIT",
    keywords: ["backup", "azure", "app-service"],
    config: { variables: { storage: storageConfig } },
    provider: { description: "app-backup's provider: the default storage of its resources.", inputProperties: { storage: storageConfig } },
    types: translate.types,
    resources,
    language: {
      python: { packageName: "pulumi_app_backup", respectSchemaVersion: true },
    },
  };
}

export type PackageSchema = ReturnType<typeof packageSchema>;
export type { PulumiObjectType };
