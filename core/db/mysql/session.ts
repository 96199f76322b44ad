import { readFile } from "node:fs/promises";
import mysql from "mysql2";
import type { Connection, ConnectionOptions, FieldPacket, SslOptions } from "mysql2";
import { AppBackupError } from "../../errors.js";
import { describeMysqlSettings, type MysqlConnectionSettings } from "./connection-string.js";
import { toMysqlError } from "./errors.js";

/** One open connection with the settings it came from, for queries and for error messages. */
export interface MysqlSession {
  connection: Connection;
  settings: MysqlConnectionSettings;
  /** Whether the connection is encrypted. */
  tls: boolean;
  /** Runs one statement; rows come back as objects with string values (dates as text). */
  query<Row = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
  /** Drops the socket at once (used on abort and after fatal errors). */
  destroy(): void;
}

const CONNECT_TIMEOUT_MS = 20_000;

/**
 * Opens a connection honouring the TLS mode. `database: null` connects without selecting
 * a database. The session uses utf8mb4 and UTC so TIMESTAMP values travel unchanged.
 */
export async function openMysqlSession(
  settings: MysqlConnectionSettings,
  options: { database?: string | null; action: string },
): Promise<MysqlSession> {
  const ssl = await sslOptionsFor(settings);
  const database = options.database === undefined ? settings.database : options.database;
  try {
    return await connectOnce(settings, database, ssl);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (settings.sslMode === "preferred" && code === "HANDSHAKE_NO_SSL_SUPPORT") {
      try {
        return await connectOnce(settings, database, undefined);
      } catch (retryError) {
        throw toMysqlError(retryError, settings, options.action);
      }
    }
    throw toMysqlError(error, settings, options.action);
  }
}

async function sslOptionsFor(settings: MysqlConnectionSettings): Promise<SslOptions | undefined> {
  switch (settings.sslMode) {
    case "none":
      return undefined;
    case "preferred":
    case "required":
      return { rejectUnauthorized: false };
    case "verify-ca":
    case "verify-full": {
      let ca: string | undefined;
      if (settings.sslCaFile !== undefined) {
        try {
          ca = await readFile(settings.sslCaFile, "utf8");
        } catch (error) {
          throw new AppBackupError(
            "DATABASE",
            `Cannot read the CA certificate file "${settings.sslCaFile}" named by SslCa for ${describeMysqlSettings(settings)}: ${(error as Error).message}`,
            "Point SslCa at a readable PEM file with the CA certificate that signed the server certificate.",
          );
        }
      }
      return { ca, rejectUnauthorized: true, verifyIdentity: settings.sslMode === "verify-full" };
    }
  }
}

function connectOnce(settings: MysqlConnectionSettings, database: string | null, ssl: SslOptions | undefined): Promise<MysqlSession> {
  const connectionOptions: ConnectionOptions = {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    charset: "UTF8MB4_GENERAL_CI",
    connectTimeout: CONNECT_TIMEOUT_MS,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    multipleStatements: false,
    timezone: "Z",
    ...(database === null ? {} : { database }),
    ...(ssl === undefined ? {} : { ssl }),
  };
  return new Promise((resolve, reject) => {
    const connection = mysql.createConnection(connectionOptions);
    let settled = false;
    connection.once("error", (error) => {
      if (!settled) {
        settled = true;
        connection.destroy();
        reject(error);
      }
    });
    connection.connect((error) => {
      if (settled) return;
      settled = true;
      if (error) {
        connection.destroy();
        reject(error);
        return;
      }
      // Later socket errors surface through the running query; keep one listener so they never crash the process.
      connection.on("error", () => {});
      resolve(makeSession(connection, settings, ssl !== undefined));
    });
  });
}

function makeSession(connection: Connection, settings: MysqlConnectionSettings, tls: boolean): MysqlSession {
  return {
    connection,
    settings,
    tls,
    query<Row>(sql: string, values?: unknown[]) {
      return new Promise<Row[]>((resolve, reject) => {
        connection.query({ sql, values }, (error, rows) => {
          if (error) reject(error);
          else resolve(rows as Row[]);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        connection.end(() => {
          connection.destroy();
          resolve();
        });
      });
    },
    destroy() {
      connection.destroy();
    },
  };
}

/** Backquotes an identifier (table, column, database). */
export function quoteIdentifier(name: string): string {
  return "`" + name.replace(/`/g, "``") + "`";
}

/** A single-quoted SQL string literal for metadata text (names, sql_mode values). */
export function quoteString(text: string): string {
  return "'" + text.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\0/g, "\\0").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\x1a/g, "\\Z") + "'";
}

export type { FieldPacket };
