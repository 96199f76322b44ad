import { AppBackupError } from "../../errors.js";
import {
  looksLikeAdoNet,
  parseAdoNetBoolean,
  parseAdoNetConnectionString,
  pickAdoNetValue,
  type AdoNetPairs,
} from "../ado-net-connection-string.js";

export interface SqlServerConnectionSettings {
  server: string;
  /** Absent when a named instance is used (its port is looked up through SQL Browser). */
  port: number | undefined;
  instanceName: string | undefined;
  database: string;
  user: string;
  /** Secret. */
  password: string;
  /** Encrypt the connection (Azure SQL requires it); `strict` is TDS 8.0. */
  encrypt: boolean | "strict";
  trustServerCertificate: boolean;
  connectTimeoutSeconds: number;
}

const DEFAULT_PORT = 1433;
const SERVER_KEYS = ["Server", "Data Source", "Address", "Addr", "Network Address"];
const DATABASE_KEYS = ["Initial Catalog", "Database"];
const USER_KEYS = ["User ID", "UID", "User", "User Name", "Username"];
const PASSWORD_KEYS = ["Password", "PWD"];
const ENCRYPT_KEYS = ["Encrypt"];
const TRUST_KEYS = ["TrustServerCertificate", "Trust Server Certificate"];
const TIMEOUT_KEYS = ["Connect Timeout", "Connection Timeout", "Timeout"];

/** Parses an ADO.NET SQL Server connection string or an `mssql://` / `sqlserver://` URL. */
export function parseSqlServerConnectionString(text: string): SqlServerConnectionSettings {
  const trimmed = text.trim();
  if (trimmed === "") throw invalid("it is empty");
  if (/^(mssql|sqlserver):\/\//i.test(trimmed)) return parseUrl(trimmed);
  if (looksLikeAdoNet(trimmed)) return parseAdoNet(trimmed);
  throw invalid('it is neither "Key=Value;" pairs nor an "mssql://" URL');
}

/** `host,port` (or `host\instance`) and database, safe for messages. */
export function describeSqlServerSettings(settings: Pick<SqlServerConnectionSettings, "server" | "port" | "instanceName" | "database">): string {
  const where = settings.instanceName ? `${settings.server}\\${settings.instanceName}` : `${settings.server},${settings.port ?? DEFAULT_PORT}`;
  return `SQL Server ${where}, database "${settings.database}"`;
}

function parseAdoNet(text: string): SqlServerConnectionSettings {
  let pairs: AdoNetPairs;
  try {
    pairs = parseAdoNetConnectionString(text);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const integrated = pickAdoNetValue(pairs, ["Integrated Security", "Trusted_Connection"]);
  if (integrated !== undefined && /^(true|yes|sspi)$/i.test(integrated.trim())) {
    throw invalid("it uses Windows authentication (Integrated Security), which app-backup does not support; use a SQL login (User ID and Password)");
  }
  const authentication = pickAdoNetValue(pairs, ["Authentication"]);
  if (authentication !== undefined && !/^\s*sql\s*password\s*$/i.test(authentication)) {
    throw invalid(`its Authentication "${authentication.trim()}" is not supported; use a SQL login (User ID and Password)`);
  }
  const serverText = pickAdoNetValue(pairs, SERVER_KEYS);
  if (serverText === undefined || serverText.trim() === "") throw invalid('it names no server (add "Server=tcp:name.database.windows.net,1433")');
  const { server, port, instanceName } = parseServer(serverText);
  const database = pickAdoNetValue(pairs, DATABASE_KEYS) ?? "";
  if (database.trim() === "") throw invalid('it names no database (add "Initial Catalog=name")');
  const encryptText = pickAdoNetValue(pairs, ENCRYPT_KEYS);
  const trustText = pickAdoNetValue(pairs, TRUST_KEYS);
  return {
    server,
    port,
    instanceName,
    database: database.trim(),
    user: pickAdoNetValue(pairs, USER_KEYS) ?? "",
    password: pickAdoNetValue(pairs, PASSWORD_KEYS) ?? "",
    encrypt: encryptText === undefined ? true : parseEncrypt(encryptText),
    trustServerCertificate: trustText === undefined ? false : parseBoolean("TrustServerCertificate", trustText),
    connectTimeoutSeconds: parseTimeout(pickAdoNetValue(pairs, TIMEOUT_KEYS)),
  };
}

function parseUrl(text: string): SqlServerConnectionSettings {
  let url: URL;
  try {
    url = new URL(text.replace(/^[a-z]+:\/\//i, "http://"));
  } catch {
    throw invalid("it is not a valid URL (percent-encode special characters in the user name and password)");
  }
  const path = decode(url.pathname.replace(/^\//, ""));
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) params.set(key.toLowerCase(), value);
  const database = path || params.get("database") || "";
  if (database === "") throw invalid('the URL names no database (expected "mssql://user:password@host:1433/database")');
  const portText = /^[a-z]+:\/\/[^/]*:(\d+)(?:[/?]|$)/i.exec(text)?.[1];
  return {
    server: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: portText === undefined ? DEFAULT_PORT : parsePort(portText),
    instanceName: params.get("instancename") || undefined,
    database,
    user: decode(url.username),
    password: decode(url.password),
    encrypt: params.has("encrypt") ? parseEncrypt(params.get("encrypt")!) : true,
    trustServerCertificate: params.has("trustservercertificate") ? parseBoolean("trustServerCertificate", params.get("trustservercertificate")!) : false,
    connectTimeoutSeconds: parseTimeout(params.get("connecttimeout") ?? params.get("connectiontimeout")),
  };
}

/** `tcp:host,1433`, `host,1433`, `host\instance`, `host:1433` (URL habit), `host`. */
function parseServer(text: string): { server: string; port: number | undefined; instanceName: string | undefined } {
  let value = text.trim();
  if (/^(np|lpc|admin):/i.test(value)) throw invalid("it uses named pipes, shared memory or the admin connection; use TCP (Server=tcp:host,1433)");
  value = value.replace(/^tcp:/i, "");
  let port: number | undefined;
  const withPort = /^(.*?)\s*[,:]\s*(\d+)$/.exec(value);
  if (withPort && !withPort[1]!.includes(":")) {
    value = withPort[1]!;
    port = parsePort(withPort[2]!);
  }
  let instanceName: string | undefined;
  const backslash = value.indexOf("\\");
  if (backslash >= 0) {
    instanceName = value.slice(backslash + 1) || undefined;
    value = value.slice(0, backslash);
  }
  if (value === "." || value.toLowerCase() === "(local)") value = "localhost";
  if (value === "") throw invalid("its server name is empty");
  return { server: value, port: instanceName && port === undefined ? undefined : (port ?? DEFAULT_PORT), instanceName };
}

function parseEncrypt(text: string): boolean | "strict" {
  if (/^\s*strict\s*$/i.test(text)) return "strict";
  return parseBoolean("Encrypt", text);
}

function parseBoolean(key: string, text: string): boolean {
  const value = parseAdoNetBoolean(text);
  if (value === undefined) throw invalid(`its ${key} value "${text.trim()}" is not true or false`);
  return value;
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return 30;
  const seconds = Number(text.trim());
  if (!Number.isFinite(seconds) || seconds < 0) throw invalid(`its connect timeout "${text.trim()}" is not a number of seconds`);
  return seconds === 0 ? 600 : seconds;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`its port "${text}" is not a number from 1 to 65535`);
  return port;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid("the URL contains a malformed percent-encoding");
  }
}

function invalid(reason: string): AppBackupError {
  return new AppBackupError(
    "DATABASE",
    `The SQL Server connection string cannot be used: ${reason}.`,
    'Use "Server=tcp:name.database.windows.net,1433;Initial Catalog=db;User ID=user;Password=...;Encrypt=True;TrustServerCertificate=False;" or "mssql://user:password@host:1433/db".',
  );
}
