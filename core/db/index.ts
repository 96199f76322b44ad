import type { DatabaseEngine, DatabaseType } from "./types.js";

/** The engine for an Azure `databaseType`; drivers load only when a database of that type is used. */
export async function engineFor(databaseType: DatabaseType): Promise<DatabaseEngine> {
  switch (databaseType) {
    case "PostgreSql":
      return (await import("./postgres/index.js")).postgresEngine;
    case "MySql":
    case "LocalMySql":
      return (await import("./mysql/index.js")).mysqlEngine;
    case "SqlAzure":
      return (await import("./sqlserver/index.js")).sqlServerEngine;
  }
}
