import type { DatabaseType, ScheduleSpec } from "./config/schema.js";
import type { RemoteHomeSpec } from "./home/remote-home.js";
import type { TokenCredential } from "./store/azure-credential.js";

/** Where backups live. Credentials stay inside these objects and are never printed. */
export type StorageSpec =
  | { kind: "local"; path: string }
  | { kind: "azure-sas"; containerUrl: string }
  | { kind: "azure-connection-string"; connectionString: string; container: string }
  | {
      kind: "azure-identity";
      accountUrl: string;
      container: string;
      /**
       * The Entra ID credential to sign in with, when a front end has its own
       * (the Action's OIDC federation); DefaultAzureCredential otherwise. Never persisted.
       */
      credential?: TokenCredential;
    };

export interface ConnectionString {
  type: string;
  /** The resolved value: secret. */
  value: string;
  /** The value as written in the configuration (`${env:VAR}` kept), safe to store in a backup. */
  declared: string;
}

export interface DatabaseReference {
  connectionStringName: string;
  databaseType: DatabaseType;
  name?: string;
}

/**
 * The one options type of the engine. The CLI (config file), the GitHub Action
 * (inputs) and the Pulumi resources (resource inputs) each build one of these;
 * everything the engine does starts from it.
 */
export interface AppBackupOptions {
  app: {
    name: string;
    /**
     * Absolute path of the app's home (Azure's D:\home); for a remote home, where
     * it is as shown in messages (`sftp://user@host:22/srv/app`, the SCM URL).
     */
    home: string;
    /** Set when the home is on another machine: how it is reached (with its secrets). */
    remote?: RemoteHomeSpec;
    settings: Record<string, string>;
    /** Settings as declared, `${env:VAR}` kept; what goes into the backup's `meta`. */
    declaredSettings: Record<string, string>;
    connectionStrings: Record<string, ConnectionString>;
  };
  backup: {
    storage: StorageSpec;
    databases: DatabaseReference[];
    maxSizeBytes: number;
    databaseMaxSizeBytes: number;
    /** Inline filter lines; undefined means "read `_backup.filter` from the home". */
    filter?: string[];
    enabled: boolean;
    schedule?: ScheduleSpec;
  };
  /** The configuration file these options came from, when there was one. */
  configPath?: string;
}
