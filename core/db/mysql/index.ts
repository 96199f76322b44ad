import type { DatabaseEngine } from "../types.js";
import { describeMysqlSettings, parseMysqlConnectionString } from "./connection-string.js";
import { dumpMysql } from "./dump.js";
import { loadMysql, MYSQL_LOAD_ATOMICITY } from "./load.js";

/** MySQL and MariaDB (Azure `MySql` and in-app `LocalMySql`), over mysql2 only. */
export const mysqlEngine: DatabaseEngine = {
  describe: (connectionString) => describeMysqlSettings(parseMysqlConnectionString(connectionString)),
  dump: dumpMysql,
  load: loadMysql,
  loadAtomicity: MYSQL_LOAD_ATOMICITY,
};

export { parseMysqlConnectionString, describeMysqlSettings } from "./connection-string.js";
export type { MysqlConnectionSettings, MysqlSslMode } from "./connection-string.js";
export { MYSQL_LOAD_ATOMICITY } from "./load.js";
