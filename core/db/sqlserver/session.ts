import mssql from "mssql";
import { AppBackupError } from "../../errors.js";
import { describeSqlServerSettings, type SqlServerConnectionSettings } from "./connection-string.js";
import { redactPassword } from "../redact-password.js";

/** Opens a pool of one connection (a dump or a load is one session: one transaction). */
export async function openSqlServerPool(settings: SqlServerConnectionSettings, action: string): Promise<mssql.ConnectionPool> {
  const pool = new mssql.ConnectionPool({
    server: settings.server,
    ...(settings.port === undefined ? {} : { port: settings.port }),
    database: settings.database,
    user: settings.user,
    password: settings.password,
    connectionTimeout: settings.connectTimeoutSeconds * 1000,
    // A dump's table scan or a load's batch may run for long; cancellation is by abort signal.
    requestTimeout: 0,
    pool: { min: 0, max: 1 },
    options: {
      // tedious also takes "strict" (TDS 8.0); the mssql typings only know booleans.
      encrypt: settings.encrypt as boolean,
      trustServerCertificate: settings.trustServerCertificate,
      ...(settings.instanceName === undefined ? {} : { instanceName: settings.instanceName }),
      appName: "app-backup",
      useUTC: true,
      enableArithAbort: true,
    },
  });
  pool.on("error", () => {});
  try {
    await pool.connect();
    return pool;
  } catch (error) {
    await pool.close().catch(() => {});
    throw toSqlServerError(error, settings, action);
  }
}

interface DriverError {
  code?: string;
  number?: number;
  message?: string;
  originalError?: DriverError;
  cause?: DriverError;
  /** AggregateError: one per address tried. */
  errors?: DriverError[];
}

/** A DATABASE error naming the server and database, with the password scrubbed. */
export function toSqlServerError(error: unknown, settings: SqlServerConnectionSettings, action: string): AppBackupError {
  if (error instanceof AppBackupError) return error;
  const driverError = (error ?? {}) as DriverError;
  const code = driverError.code ?? "";
  const text = redactPassword(driverError.message ?? String(error), settings.password);
  const details = redactPassword(collectMessages(driverError).join(" "), settings.password);
  const target = describeSqlServerSettings(settings);
  const make = (message: string, hint?: string) => new AppBackupError("DATABASE", `Cannot ${action} on ${target}: ${message}`, hint, { cause: scrubbed(error, settings.password) });

  if (code === "ELOGIN") {
    if (/Cannot open database/i.test(text)) return make(`the database "${settings.database}" does not exist or user "${settings.user}" may not open it.`, "Check Initial Catalog in the connection string and the user's access to that database.");
    return make(`login failed for user "${settings.user}" (${text}).`, "Check User ID and Password; for Azure SQL also check the server firewall allows this machine.");
  }
  if (code === "ESOCKET" || code === "ETIMEOUT" || code === "EINSTLOOKUP") {
    if (/certificate|self[- ]signed|altnames/i.test(details)) {
      return make(`the server's TLS certificate was not accepted (${details}).`, "Use the server's proper name (e.g. name.database.windows.net) or, only for a server you trust, TrustServerCertificate=True.");
    }
    if (/ECONNREFUSED|refused/i.test(details)) return make("the connection was refused.", "Check the server name and port, and that the server is running and reachable from here.");
    if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/i.test(details)) return make(`the host name "${settings.server}" does not resolve.`, "Check the server name in the connection string.");
    if (code === "ETIMEOUT") return make("the server did not answer in time.", "Check the server name, port and firewall rules (Azure SQL must allow this machine's address).");
    if (code === "EINSTLOOKUP") return make(`the instance "${settings.instanceName}" was not found.`, "Check the instance name, or give the port instead (Server=host,1433).");
    return make(`the connection failed (${details || text}).`, "Check the server name, port and firewall rules.");
  }
  if (code === "ECONNCLOSED" || code === "ENOTOPEN") return make("the connection was closed.", "Run the operation again.");
  if (driverError.number !== undefined) return make(`${text} (error ${driverError.number}).`);
  return make(text);
}

function collectMessages(error: DriverError | undefined, depth = 0): string[] {
  if (!error || depth > 5) return [];
  const own = [error.message ?? "", (error as { code?: string }).code ?? ""].filter(Boolean);
  const nested = [error.originalError, error.cause].flatMap((inner) => (inner && typeof inner === "object" ? collectMessages(inner, depth + 1) : []));
  const aggregated = (error.errors ?? []).flatMap((inner: DriverError) => collectMessages(inner, depth + 1));
  return [...own, ...nested, ...aggregated];
}

function scrubbed(error: unknown, password: string): unknown {
  if (!(error instanceof Error) || password.length < 3) return error;
  if (!collectMessages(error as DriverError).join(" ").includes(password)) return error;
  return new Error(redactPassword(error.message, password));
}
