import type { Readable, Writable } from "node:stream";
import type { DatabaseType } from "../config/schema.js";

export type { DatabaseType };

/** A database named by the backup configuration, with its connection string resolved. */
export interface DatabaseSource {
  /** Name of the app's connection string; the dump is stored as `{connectionStringName}.sql`. */
  connectionStringName: string;
  databaseType: DatabaseType;
  /** Secret: may hold a password. Never logged, never put in an error. */
  connectionString: string;
}

export interface TableSummary {
  /** Qualified name, e.g. `public.orders` or `shop.orders`. */
  name: string;
  rows: number;
}

/** What a dump recorded, for the manifest. Sizes and SHA-256 are added by the archive writer. */
export interface DumpSummary {
  engine: "postgresql" | "mysql" | "mariadb" | "sqlserver";
  serverVersion: string;
  /** Database name on the server. */
  database: string;
  /** How the dump was made consistent, e.g. `REPEATABLE READ READ ONLY transaction`. */
  consistency: string;
  tables: TableSummary[];
  /** Tables the consistent snapshot does not cover (MySQL non-InnoDB), named so users know. */
  notCovered: string[];
  warnings: string[];
}

export interface LoadSummary {
  database: string;
  tables: number;
  /** What a failure midway leaves behind on this engine, for users and logs. */
  atomicity: string;
}

/** One engine's dump and load, over its driver only (no client tools needed). */
export interface DatabaseEngine {
  /** Host/port/database without credentials, for messages. */
  describe(connectionString: string): string;
  /** Writes a plain SQL dump that the engine's own client also restores; resolves when `out` has been ended. */
  dump(connectionString: string, out: Writable, options?: { signal?: AbortSignal }): Promise<DumpSummary>;
  /** Replaces the target database's content with the dump. */
  load(connectionString: string, sql: Readable, options?: { signal?: AbortSignal }): Promise<LoadSummary>;
  /** What `load` leaves behind when it fails midway, as the engine documents it: restore tells users. */
  readonly loadAtomicity: string;
}
