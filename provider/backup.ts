import * as pulumi from "@pulumi/pulumi";
import { appInputsOf, withSecretOutputs, type AppArgs } from "./app-args.js";
import type { BackupConfiguration } from "./backup-configuration.js";
import { backupProvider } from "./serialized-providers.js";
import type { BackupStorage } from "./types.js";

export interface BackupSnapshotArgs {
  /**
   * Any values, as `@pulumi/command`'s triggers: when one changes, a new backup is taken
   * (the resource is replaced), e.g. `[releaseVersion]`.
   */
  triggers?: pulumi.Input<any[]>;
  /** Delete the backup (zip, manifest and log) when the resource is destroyed or replaced. Default false: it stays. */
  deleteOnDestroy?: pulumi.Input<boolean>;
}

/** The app to back up: its own inputs, or those of a BackupConfiguration. */
export type BackupArgs = (AppArgs | { configuration: BackupConfiguration }) & BackupSnapshotArgs;

/**
 * An on-demand backup taken when the resource is created: a snapshot before a
 * migration or a deploy. Changing `triggers` takes a new one; other changes
 * only apply to the next one. A failed backup fails the `up` with its log.
 */
export class Backup extends pulumi.dynamic.Resource {
  /** The backup's name, `{app}_{yyyyMMddHHmmss}`. */
  declare readonly backupName: pulumi.Output<string>;
  /** "Succeeded", or "PartiallySucceeded" when some files could not be read (see `warnings`). */
  declare readonly status: pulumi.Output<string>;
  /** Addresses of the backup's blobs (or files), without credentials. */
  declare readonly zipUrl: pulumi.Output<string>;
  declare readonly manifestUrl: pulumi.Output<string>;
  declare readonly logUrl: pulumi.Output<string>;
  /** Size of the zip in bytes. */
  declare readonly sizeBytes: pulumi.Output<number>;
  /** When the backup started (ISO-8601). */
  declare readonly createdAt: pulumi.Output<string>;
  declare readonly storageLocation: pulumi.Output<string>;
  declare readonly warnings: pulumi.Output<string[]>;
  declare readonly name: pulumi.Output<string>;
  declare readonly storage: pulumi.Output<BackupStorage>;
  declare readonly triggers: pulumi.Output<unknown[] | null>;
  declare readonly deleteOnDestroy: pulumi.Output<boolean>;
  /** Where the backup was requested from, as recorded in its manifest. */
  declare readonly origin: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: BackupArgs, opts?: pulumi.CustomResourceOptions) {
    const app = "configuration" in args ? appInputsOfConfiguration(args.configuration) : appInputsOf(args);
    super(
      backupProvider,
      name,
      {
        ...app,
        triggers: args.triggers,
        deleteOnDestroy: args.deleteOnDestroy,
        origin: { source: "pulumi", project: pulumi.getProject(), stack: pulumi.getStack(), resource: name },
        backupName: undefined,
        status: undefined,
        zipUrl: undefined,
        manifestUrl: undefined,
        logUrl: undefined,
        sizeBytes: undefined,
        createdAt: undefined,
        storageLocation: undefined,
        warnings: undefined,
      },
      withSecretOutputs(opts),
      "app-backup",
      "Backup",
    );
  }
}

function appInputsOfConfiguration(configuration: BackupConfiguration): Record<string, pulumi.Input<unknown>> {
  return {
    name: configuration.name,
    home: configuration.home,
    // The login of an sftp:// home is the configuration's too: without it the Backup could not read the home.
    sftp: configuration.sftp,
    storage: configuration.storage,
    settings: configuration.settings,
    connectionStrings: configuration.connectionStrings,
    databases: configuration.databases,
    filter: configuration.filter,
    maxSize: configuration.maxSize,
    databaseMaxSize: configuration.databaseMaxSize,
  };
}
