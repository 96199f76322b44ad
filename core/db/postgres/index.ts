import type { DatabaseEngine } from "../types.js";
import { describePostgresSettings, parsePostgresConnectionString } from "./connection-string.js";
import { dumpPostgres } from "./dump.js";
import { ATOMICITY, loadPostgres } from "./load.js";

/** PostgreSQL over the pg driver: plain SQL dumps that psql also restores, loaded back in one transaction. */
export const postgresEngine: DatabaseEngine = {
  describe: (connectionString) => describePostgresSettings(parsePostgresConnectionString(connectionString)),
  dump: dumpPostgres,
  load: loadPostgres,
  loadAtomicity: ATOMICITY,
};

export { parsePostgresConnectionString, describePostgresSettings } from "./connection-string.js";
export type { PostgresConnectionSettings, PostgresSslMode } from "./connection-string.js";
