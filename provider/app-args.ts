import * as pulumi from "@pulumi/pulumi";
import { secretsInConnectionString } from "../core/index.js";
import { settingsOf } from "./settings-file.js";
import type { AppServiceHome, BackupStorage, ConnectionStringType, DatabaseType } from "./types.js";

export type BackupStorageArgs =
  | string
  | { connectionString: pulumi.Input<string>; container: pulumi.Input<string> }
  | { accountUrl: pulumi.Input<string>; container: pulumi.Input<string> }
  | { path: pulumi.Input<string> };

export interface AppServiceHomeArgs {
  appService: pulumi.Input<string>;
  resourceGroup?: pulumi.Input<string>;
  subscription?: pulumi.Input<string>;
  slot?: pulumi.Input<string>;
  publishingUser?: pulumi.Input<string>;
  /** Pass a secret or write `${env:VAR}`; a literal is made secret before it reaches the state. */
  publishingPassword?: pulumi.Input<string>;
}

export interface SftpLoginArgs {
  privateKey?: pulumi.Input<string>;
  privateKeyFile?: pulumi.Input<string>;
  passphrase?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  knownHosts?: pulumi.Input<string>;
}

export interface ConnectionStringArgs {
  type: pulumi.Input<ConnectionStringType>;
  value: pulumi.Input<string>;
}

export interface DatabaseBackupSettingArgs {
  connectionStringName: pulumi.Input<string>;
  databaseType: pulumi.Input<DatabaseType>;
  name?: pulumi.Input<string>;
}

/** The app and where its backups go; shared by BackupConfiguration and Backup. */
export interface AppArgs {
  /** The app's name (Azure's site name): letters, digits and hyphens, at most 60. */
  name: pulumi.Input<string>;
  /**
   * The app's content: a folder (Azure's D:\home; relative to the Pulumi project folder), an app on another
   * machine `sftp://user@host[:port]/path` (with `sftp`), or an App Service app
   * `{ appService, resourceGroup, subscription }` (or its SCM URL) read and written through Kudu. `${env:VAR}` allowed.
   */
  home: pulumi.Input<string | AppServiceHomeArgs>;
  /** How an `sftp://` home logs in: `privateKey` (pass a secret) or `privateKeyFile`, and `knownHosts`. Always secret. */
  sftp?: pulumi.Input<SftpLoginArgs>;
  /**
   * Where backups go: a container SAS URL, `"file:./folder"`, `{ connectionString, container }`,
   * `{ accountUrl, container }` or `{ path }`. Write credentials as `${env:VAR}` references or pass
   * secrets (`config.requireSecret(...)`); a literal credential is made secret before it reaches the state.
   */
  storage: pulumi.Input<BackupStorageArgs>;
  /** App settings for the backup's `meta`, as Azure keeps them; `${env:VAR}` allowed. They override `settingsFile`. */
  settings?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** A JSON or YAML file of app settings: a mapping, or what `az webapp config appsettings list` prints. */
  settingsFile?: pulumi.Input<string>;
  /** The app's connection strings by name, as in Azure; write passwords as `${env:VAR}` or pass secrets. */
  connectionStrings?: pulumi.Input<Record<string, pulumi.Input<ConnectionStringArgs>>>;
  /** Databases to dump into each backup, each through one of `connectionStrings`. */
  databases?: pulumi.Input<pulumi.Input<DatabaseBackupSettingArgs>[]>;
  /** `_backup.filter` lines (paths to leave out); default: the home's own `_backup.filter`. */
  filter?: pulumi.Input<pulumi.Input<string>[]>;
  /** Size limit of content + dumps, e.g. "10GB" (the default) or a number of bytes. */
  maxSize?: pulumi.Input<string | number>;
  /** Size limit of the database dumps, e.g. "4GB" (the default). */
  databaseMaxSize?: pulumi.Input<string | number>;
}

/**
 * Outputs that may carry a credential: kept secret in the state. App settings are
 * often keys, and no rule tells a key from another value, so they are kept secret too.
 */
export const secretOutputNames = ["storage", "sftp", "connectionStrings", "settings"];

/** The provider inputs for the app args: credentials made secret, settings read from their file. */
export function appInputsOf(args: AppArgs): Record<string, pulumi.Input<unknown>> {
  return {
    name: args.name,
    home: secretIfCredential(args.home as pulumi.Input<string | AppServiceHome>, (home) => typeof home === "object" && home !== null && typeof home.publishingPassword === "string" && !isOnlyReferences(home.publishingPassword)),
    sftp: args.sftp === undefined ? undefined : pulumi.secret(args.sftp),
    storage: secretIfCredential(args.storage as pulumi.Input<BackupStorage>, storageHasCredential),
    settings: secretIfCredential(args.settingsFile === undefined ? args.settings : mergedSettings(args.settingsFile, args.settings), (settings) =>
      Object.values(settings ?? {}).some((value) => typeof value !== "string" || !isOnlyReferences(value)),
    ),
    connectionStrings:
      args.connectionStrings === undefined
        ? undefined
        : secretIfCredential(args.connectionStrings, (strings) =>
            Object.values(strings ?? {}).some((cs) => typeof cs?.value === "string" && hasLiteralCredential(cs.value)),
          ),
    databases: args.databases,
    filter: args.filter,
    maxSize: args.maxSize,
    databaseMaxSize: args.databaseMaxSize,
  };
}

export function withSecretOutputs(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), ...secretOutputNames])] };
}

/**
 * Whether a value spells out a credential (SAS signature, key, password)
 * rather than referring to one with `${env:VAR}`.
 */
export function hasLiteralCredential(text: string): boolean {
  const withoutReferences = text.replace(/\$\{env:[A-Za-z_][A-Za-z0-9_]*\}/g, "");
  return /[?&]sig=[^&]/i.test(withoutReferences) || secretsInConnectionString(withoutReferences).length > 0;
}

/** Whether the value is made of `${env:VAR}` references alone: it names secrets without holding one. */
function isOnlyReferences(text: string): boolean {
  return text.replace(/\$\{env:[A-Za-z_][A-Za-z0-9_]*\}/g, "").trim() === "" && text.includes("${env:");
}

function storageHasCredential(storage: BackupStorage | undefined): boolean {
  if (typeof storage === "string") return hasLiteralCredential(storage);
  if (storage && "connectionString" in storage && typeof storage.connectionString === "string") return hasLiteralCredential(storage.connectionString);
  return false;
}

function secretIfCredential<T>(value: pulumi.Input<T>, hasCredential: (resolved: pulumi.Unwrap<T>) => boolean): pulumi.Output<pulumi.Unwrap<T>> {
  return pulumi.output(value).apply((resolved) => (hasCredential(resolved) ? pulumi.secret(resolved) : resolved)) as pulumi.Output<pulumi.Unwrap<T>>;
}

function mergedSettings(
  settingsFile: pulumi.Input<string>,
  settings: pulumi.Input<Record<string, pulumi.Input<string>>> | undefined,
): pulumi.Output<Record<string, string>> {
  return pulumi.all([settingsFile, settings]).apply(async ([file, declared]) => ({ ...(await settingsOf(file)), ...(declared ?? {}) }));
}
