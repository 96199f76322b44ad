import { AppBackupError } from "../../errors.js";
import { normalizeAdoNetKey, parseAdoNetConnectionString, pickAdoNetValue, type AdoNetPairs } from "../ado-net-connection-string.js";

/** libpq's TLS modes. */
export type PostgresSslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

export interface PostgresConnectionSettings {
  /** Host name, IP address, or a unix socket directory (starts with `/`). */
  host: string;
  /** libpq `hostaddr`: the address actually dialled; `host` is then only used to check the certificate. */
  hostaddr?: string;
  port: number;
  /** Undefined means libpq's default: the user name. */
  database?: string;
  user?: string;
  /** Secret. */
  password?: string;
  sslMode: PostgresSslMode;
  /** CA file for `verify-ca`/`verify-full` (`system` or unset: the system's trusted CAs). */
  sslRootCert?: string;
  sslCert?: string;
  sslKey?: string;
  applicationName?: string;
  connectTimeoutSeconds?: number;
  /** libpq `options`, e.g. `-c search_path=app`. */
  options?: string;
}

const DEFAULT_PORT = 5432;
const SSL_MODES: readonly PostgresSslMode[] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/** libpq keywords we act on; the URL form's query parameters use the same names. */
const KEYWORDS = new Set([
  "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey",
  "application_name", "connect_timeout", "options",
]);
/** libpq keywords that are valid but change nothing for a dump or a load over this driver. */
const IGNORED_KEYWORDS = new Set([
  "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
  "target_session_attrs", "gssencmode", "channel_binding", "sslsni", "sslcompression", "tcp_user_timeout",
  "client_encoding", "requirepeer", "load_balance_hosts",
]);

const ADO_HOST_KEYS = ["Host", "Server", "Data Source", "Address", "Addr", "Network Address"];
const ADO_PORT_KEYS = ["Port"];
const ADO_DATABASE_KEYS = ["Database", "Initial Catalog", "DB"];
const ADO_USER_KEYS = ["Username", "User Id", "UserId", "User Name", "User", "Uid"];
const ADO_PASSWORD_KEYS = ["Password", "Pwd"];
const ADO_SSL_MODE_KEYS = ["SSL Mode", "SslMode"];
const ADO_ROOT_CERT_KEYS = ["Root Certificate", "RootCertificate", "SslRootCert"];
const ADO_CERT_KEYS = ["SSL Certificate", "Client Certificate", "SslCert"];
const ADO_KEY_KEYS = ["SSL Key", "Client Certificate Key", "SslKey"];
const ADO_APPLICATION_KEYS = ["Application Name", "ApplicationName"];
const ADO_TIMEOUT_KEYS = ["Timeout", "Connect Timeout", "Connection Timeout"];

/**
 * Parses the three forms users paste: a `postgres://` URL, libpq `key=value` pairs separated by
 * spaces, or ADO.NET/Npgsql `Key=Value;` pairs (Azure's portal). Errors name keys, never values.
 */
export function parsePostgresConnectionString(text: string): PostgresConnectionSettings {
  const trimmed = text.trim();
  if (trimmed === "") throw invalid("it is empty");
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return parseUrl(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) throw invalid('a URL must start with "postgres://" or "postgresql://"');
  if (!trimmed.includes("=")) throw invalid('it is neither a "postgres://" URL nor key=value pairs');
  return looksLikeAdoNetForm(trimmed) ? parseAdoNet(trimmed) : parseKeywords(trimmed);
}

/** `PostgreSQL server host:port, database "db"`: safe for messages. */
export function describePostgresSettings(settings: Pick<PostgresConnectionSettings, "host" | "port" | "database" | "user">): string {
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  const database = settings.database ?? settings.user;
  return `PostgreSQL server ${host}:${settings.port}${database ? `, database "${database}"` : ""}`;
}

/**
 * ADO.NET pairs are separated by `;`, libpq pairs by spaces. A `;` outside libpq quotes that is
 * followed by `Key=` means ADO.NET; so do keys with spaces or capitals that libpq does not know.
 */
function looksLikeAdoNetForm(text: string): boolean {
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\" && inQuote) i++;
    else if (ch === "'") inQuote = !inQuote;
    else if (!inQuote && ch === ";" && /^;\s*([A-Za-z][A-Za-z _-]*=|$)/.test(text.slice(i))) return true;
  }
  const firstKey = /^\s*([^=]+?)\s*=/.exec(text)?.[1] ?? "";
  return !KEYWORDS.has(firstKey) && !IGNORED_KEYWORDS.has(firstKey);
}

function parseUrl(text: string): PostgresConnectionSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid("it is not a valid URL", 'Percent-encode special characters in the user name and password (e.g. "@" as %40, "/" as %2F, "#" as %23).');
  }
  const decode = (value: string, what: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      throw invalid(`the ${what} has a malformed %-escape`);
    }
  };
  if (url.hostname.includes(",")) throw invalid("it names several hosts; give exactly one");
  const values = new Map<string, string>();
  if (url.hostname) values.set("host", url.hostname.replace(/^\[(.*)\]$/, "$1"));
  if (url.port) values.set("port", url.port);
  if (url.username) values.set("user", decode(url.username, "user name"));
  if (url.password) values.set("password", decode(url.password, "password"));
  const path = url.pathname.replace(/^\//, "");
  if (path) values.set("dbname", decode(path, "database name"));
  for (const [key, value] of url.searchParams) {
    if (key === "ssl") {
      // node-postgres style `?ssl=true`
      if (/^(true|1|require)$/i.test(value) && !values.has("sslmode")) values.set("sslmode", "require");
      continue;
    }
    values.set(key, value);
  }
  return fromKeywords(values);
}

function parseKeywords(text: string): PostgresConnectionSettings {
  const values = new Map<string, string>();
  for (const part of libpqKeywordParts(text)) values.set(part.key, part.value);
  return fromKeywords(values);
}

/** One libpq `key=value` pair and where its value is written in the text (quotes included). */
export interface LibpqKeywordPart {
  key: string;
  value: string;
  valueStart: number;
  valueEnd: number;
}

/** libpq's `key=value` pairs in the order written, with the span of each value, so a value can be replaced in place. */
export function libpqKeywordParts(text: string): LibpqKeywordPart[] {
  const parts: LibpqKeywordPart[] = [];
  let position = 0;
  while (position < text.length) {
    while (position < text.length && /\s/.test(text[position]!)) position++;
    if (position >= text.length) break;
    const keyMatch = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/.exec(text.slice(position));
    if (!keyMatch) throw invalid(`expected key=value at character ${position + 1}`);
    const key = keyMatch[1]!;
    position += keyMatch[0].length;
    const valueStart = position;
    let value = "";
    if (text[position] === "'") {
      position++;
      for (;;) {
        if (position >= text.length) throw invalid(`the value of "${key}" opens a quote that is never closed`);
        const ch = text[position]!;
        if (ch === "\\" && position + 1 < text.length) {
          value += text[position + 1];
          position += 2;
        } else if (ch === "'") {
          position++;
          break;
        } else {
          value += ch;
          position++;
        }
      }
    } else {
      while (position < text.length && !/\s/.test(text[position]!)) {
        if (text[position] === "\\" && position + 1 < text.length) position++;
        value += text[position];
        position++;
      }
    }
    parts.push({ key, value, valueStart, valueEnd: position });
  }
  return parts;
}

/** Which of the three forms the text is written in, as `parsePostgresConnectionString` decides it. */
export function postgresConnectionStringForm(text: string): "url" | "keywords" | "ado-net" {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return "url";
  return looksLikeAdoNetForm(trimmed) ? "ado-net" : "keywords";
}

function fromKeywords(values: Map<string, string>): PostgresConnectionSettings {
  for (const key of values.keys()) {
    if (!KEYWORDS.has(key) && !IGNORED_KEYWORDS.has(key)) {
      throw invalid(`"${key}" is not a connection parameter this tool supports`, `Supported: ${[...KEYWORDS].join(", ")}.`);
    }
  }
  const host = values.get("host") || "localhost";
  if (host.includes(",")) throw invalid("it names several hosts; give exactly one");
  const settings: PostgresConnectionSettings = {
    host,
    port: parsePort(values.get("port")),
    sslMode: parseSslMode(values.get("sslmode")),
  };
  assign(settings, "hostaddr", values.get("hostaddr"));
  assign(settings, "database", values.get("dbname"));
  assign(settings, "user", values.get("user"));
  if (values.has("password")) settings.password = values.get("password");
  assign(settings, "sslRootCert", values.get("sslrootcert"));
  assign(settings, "sslCert", values.get("sslcert"));
  assign(settings, "sslKey", values.get("sslkey"));
  assign(settings, "applicationName", values.get("application_name"));
  assign(settings, "options", values.get("options"));
  const timeout = values.get("connect_timeout");
  if (timeout) settings.connectTimeoutSeconds = parseTimeout(timeout, "connect_timeout");
  return settings;
}

function parseAdoNet(text: string): PostgresConnectionSettings {
  let pairs: AdoNetPairs;
  try {
    pairs = parseAdoNetConnectionString(text);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  let host = pickAdoNetValue(pairs, ADO_HOST_KEYS) ?? "localhost";
  let port = pickAdoNetValue(pairs, ADO_PORT_KEYS);
  if (host.includes(",")) throw invalid("it names several hosts; give exactly one");
  const hostPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host.trim());
  if (hostPort) {
    host = hostPort[1]!.replace(/^\[(.*)\]$/, "$1");
    port ??= hostPort[2];
  }
  const settings: PostgresConnectionSettings = {
    host: host.trim(),
    port: parsePort(port),
    sslMode: parseSslMode(pickAdoNetValue(pairs, ADO_SSL_MODE_KEYS)),
  };
  assign(settings, "database", pickAdoNetValue(pairs, ADO_DATABASE_KEYS));
  assign(settings, "user", pickAdoNetValue(pairs, ADO_USER_KEYS));
  const password = pickAdoNetValue(pairs, ADO_PASSWORD_KEYS);
  if (password !== undefined) settings.password = password;
  assign(settings, "sslRootCert", pickAdoNetValue(pairs, ADO_ROOT_CERT_KEYS));
  assign(settings, "sslCert", pickAdoNetValue(pairs, ADO_CERT_KEYS));
  assign(settings, "sslKey", pickAdoNetValue(pairs, ADO_KEY_KEYS));
  assign(settings, "applicationName", pickAdoNetValue(pairs, ADO_APPLICATION_KEYS));
  const timeout = pickAdoNetValue(pairs, ADO_TIMEOUT_KEYS);
  if (timeout) settings.connectTimeoutSeconds = parseTimeout(timeout, "Timeout");
  if (pairs.has(normalizeAdoNetKey("Search Path"))) settings.options = `-c search_path=${pairs.get(normalizeAdoNetKey("Search Path"))}`;
  return settings;
}

function assign<K extends keyof PostgresConnectionSettings>(settings: PostgresConnectionSettings, key: K, value: string | undefined): void {
  if (value !== undefined && value !== "") (settings as unknown as Record<string, unknown>)[key] = value;
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_PORT;
  const port = Number(value.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid("the port is not a number between 1 and 65535");
  return port;
}

function parseTimeout(value: string, key: string): number {
  const seconds = Number(value.trim());
  if (!Number.isFinite(seconds) || seconds < 0) throw invalid(`"${key}" is not a number of seconds`);
  return seconds;
}

/** libpq names (`verify-full`) and Npgsql names (`VerifyFull`, `Require`) alike; libpq's default is `prefer`. */
function parseSslMode(value: string | undefined): PostgresSslMode {
  if (value === undefined || value.trim() === "") return "prefer";
  const compact = value.trim().toLowerCase().replace(/[\s_-]+/g, "");
  const mode = SSL_MODES.find((m) => m.replace("-", "") === compact);
  if (!mode) throw invalid(`the SSL mode is not one of ${SSL_MODES.join(", ")}`);
  return mode;
}

function invalid(reason: string, hint?: string): AppBackupError {
  return new AppBackupError(
    "DATABASE",
    `The PostgreSQL connection string is not valid: ${reason}.`,
    hint ?? 'Use postgres://user:password@host:5432/database?sslmode=require, "host=... port=5432 dbname=... user=... password=... sslmode=require", or "Server=...;Port=5432;Database=...;User Id=...;Password=...;SSL Mode=Require".',
  );
}
