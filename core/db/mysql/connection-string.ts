import { AppBackupError } from "../../errors.js";
import {
  looksLikeAdoNet,
  parseAdoNetConnectionString,
  pickAdoNetValue,
  type AdoNetPairs,
} from "../ado-net-connection-string.js";

/** TLS policy, from ADO.NET `SslMode` or URL `ssl-mode` (the MySQL client's names map onto these). */
export type MysqlSslMode = "none" | "preferred" | "required" | "verify-ca" | "verify-full";

export interface MysqlConnectionSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Secret. */
  password: string;
  sslMode: MysqlSslMode;
  /** PEM file with the CA certificate(s) that `verify-ca`/`verify-full` trust instead of the system store. */
  sslCaFile?: string;
}

const DEFAULT_PORT = 3306;

const HOST_KEYS = ["Server", "Host", "Data Source", "DataSource", "Address", "Addr", "Network Address", "Hostname"];
const PORT_KEYS = ["Port"];
const DATABASE_KEYS = ["Database", "Initial Catalog", "DB", "Default Schema"];
const USER_KEYS = ["User Id", "UserId", "Uid", "User", "User Name", "Username"];
const PASSWORD_KEYS = ["Password", "Pwd"];
const SSL_MODE_KEYS = ["SslMode", "Ssl Mode", "Ssl-Mode"];
const SSL_CA_KEYS = ["SslCa", "Ssl-Ca", "Ssl Ca", "CACertificateFile", "CA Certificate File"];

/** Parses a MySQL/MariaDB connection string: ADO.NET (`Server=..;Uid=..`) or URL (`mysql://user:pass@host/db`). */
export function parseMysqlConnectionString(text: string): MysqlConnectionSettings {
  const trimmed = text.trim();
  if (trimmed === "") throw invalid("it is empty");
  if (/^(mysql|mariadb|mysqlx):\/\//i.test(trimmed)) return parseUrl(trimmed);
  if (looksLikeAdoNet(trimmed)) return parseAdoNet(trimmed);
  throw invalid('it is neither a "mysql://" URL nor "Key=Value;" pairs');
}

/** `host:port/database`, safe for messages. */
export function describeMysqlSettings(settings: Pick<MysqlConnectionSettings, "host" | "port" | "database">): string {
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `MySQL/MariaDB server ${host}:${settings.port}, database "${settings.database}"`;
}

function parseAdoNet(text: string): MysqlConnectionSettings {
  let pairs: AdoNetPairs;
  try {
    pairs = parseAdoNetConnectionString(text);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  let host = pickAdoNetValue(pairs, HOST_KEYS) ?? "localhost";
  let port: number | undefined;
  // Azure's in-app MySQL writes `Data Source=127.0.0.1:PORT`; Connector/NET also accepts `host,port`.
  const hostPort = /^(\[[^\]]+\]|[^:,]+)[:,](\d+)$/.exec(host.trim());
  if (hostPort) {
    host = hostPort[1]!;
    port = parsePort(hostPort[2]!);
  }
  host = host.trim().replace(/^\[(.*)\]$/, "$1");
  if (host.includes(",")) throw invalid("it lists several servers; name one server");
  const portText = pickAdoNetValue(pairs, PORT_KEYS);
  if (portText !== undefined) port = parsePort(portText);
  const database = pickAdoNetValue(pairs, DATABASE_KEYS) ?? "";
  if (database === "") throw invalid('it names no database (add "Database=name")');
  return {
    host,
    port: port ?? DEFAULT_PORT,
    database,
    user: pickAdoNetValue(pairs, USER_KEYS) ?? "",
    password: pickAdoNetValue(pairs, PASSWORD_KEYS) ?? "",
    sslMode: parseSslMode(pickAdoNetValue(pairs, SSL_MODE_KEYS)),
    sslCaFile: emptyToUndefined(pickAdoNetValue(pairs, SSL_CA_KEYS)),
  };
}

function parseUrl(text: string): MysqlConnectionSettings {
  let url: URL;
  try {
    // WHATWG URL only parses authority and port for special schemes; swap in one that it does.
    url = new URL(text.replace(/^[a-z]+:\/\//i, "http://"));
  } catch {
    throw invalid("it is not a valid URL (percent-encode special characters in the user name and password)");
  }
  const database = safeDecode(url.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) throw invalid('the URL names no database (expected "mysql://user:password@host:3306/database")');
  const portText = /^[a-z]+:\/\/[^/]*:(\d+)(?:\/|$)/i.exec(text)?.[1];
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) params.set(key.toLowerCase().replace(/[_-]/g, ""), value);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port: portText === undefined ? DEFAULT_PORT : parsePort(portText),
    database,
    user: safeDecode(url.username),
    password: safeDecode(url.password),
    sslMode: parseSslMode(params.get("sslmode") ?? (params.get("ssl") === "true" ? "required" : undefined)),
    sslCaFile: emptyToUndefined(params.get("sslca")),
  };
}

function parseSslMode(value: string | undefined): MysqlSslMode {
  if (value === undefined || value.trim() === "") return "preferred";
  switch (value.trim().toLowerCase().replace(/[\s_-]/g, "")) {
    case "none":
    case "disabled":
    case "disable":
    case "false":
      return "none";
    case "preferred":
    case "prefer":
      return "preferred";
    case "required":
    case "require":
    case "true":
      return "required";
    case "verifyca":
      return "verify-ca";
    case "verifyfull":
    case "verifyidentity":
      return "verify-full";
    default:
      throw invalid(`its SSL mode "${value.trim()}" is unknown (use None, Preferred, Required, VerifyCA or VerifyFull)`);
  }
}

function parsePort(text: string): number {
  const port = Number(text.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`its port "${text.trim()}" is not a number from 1 to 65535`);
  return port;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid("the URL contains a malformed percent-encoding");
  }
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function invalid(reason: string): AppBackupError {
  return new AppBackupError(
    "DATABASE",
    `The MySQL connection string cannot be used: ${reason}.`,
    'Use "Server=host;Port=3306;Database=db;Uid=user;Pwd=password;SslMode=Required" or "mysql://user:password@host:3306/db?ssl-mode=REQUIRED".',
  );
}
