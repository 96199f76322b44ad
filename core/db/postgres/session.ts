import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import pg from "pg";
import { AppBackupError } from "../../errors.js";
import type { PostgresConnectionSettings } from "./connection-string.js";
import { toPostgresError } from "./errors.js";

const DEFAULT_CONNECT_TIMEOUT_SECONDS = 30;

/** One connection for one dump or load: remembers connection errors that happen between queries and honours an AbortSignal. */
export class PostgresSession {
  private connectionError: unknown;
  private readonly onAbort = () => this.client.connection.stream.destroy();

  private constructor(
    readonly client: pg.Client,
    readonly settings: PostgresConnectionSettings,
    private readonly signal: AbortSignal | undefined,
  ) {
    // Without a listener, an error while no query runs (the server ends the session) would crash the process.
    client.on("error", (error) => {
      this.connectionError ??= error;
    });
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  static async open(settings: PostgresConnectionSettings, applicationName: string, signal?: AbortSignal): Promise<PostgresSession> {
    signal?.throwIfAborted();
    const attempts = tlsAttempts(settings);
    for (let index = 0; ; index++) {
      const client = new pg.Client(clientConfig(settings, applicationName, attempts[index]!));
      const session = new PostgresSession(client, settings, signal);
      try {
        await client.connect();
        return session;
      } catch (error) {
        session.detach();
        await client.end().catch(() => undefined);
        signal?.throwIfAborted();
        if (index + 1 < attempts.length && shouldRetry(settings, error)) continue;
        throw toPostgresError(error, settings, "connect");
      }
    }
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(sql, values);
  }

  /** The error to report for a failure, preferring the connection error that caused it and the abort reason. */
  fail(error: unknown, action: string, context?: string): unknown {
    if (this.signal?.aborted) return this.signal.reason;
    const cause = this.connectionError && !(error instanceof AppBackupError) ? this.connectionError : error;
    return toPostgresError(cause, this.settings, action, context);
  }

  get broken(): boolean {
    return this.connectionError !== undefined;
  }

  async close(): Promise<void> {
    this.detach();
    await this.client.end().catch(() => undefined);
  }

  private detach(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
  }
}

type TlsAttempt = false | ConnectionOptions;

/** libpq semantics: `prefer` tries TLS then plain, `allow` plain then TLS; the others exactly one way. */
function tlsAttempts(settings: PostgresConnectionSettings): TlsAttempt[] {
  if (settings.host.startsWith("/")) return [false];
  const encryptOnly: ConnectionOptions = { rejectUnauthorized: false };
  switch (settings.sslMode) {
    case "disable":
      return [false];
    case "allow":
      return [false, encryptOnly];
    case "prefer":
      return [encryptOnly, false];
    case "require":
      // libpq: with an explicit root certificate, `require` verifies the CA like `verify-ca`.
      return [settings.sslRootCert && settings.sslRootCert !== "system" ? verifying(settings, false) : withClientCertificate(settings, encryptOnly)];
    case "verify-ca":
      return [verifying(settings, false)];
    case "verify-full":
      return [verifying(settings, true)];
  }
}

function shouldRetry(settings: PostgresConnectionSettings, error: unknown): boolean {
  const message = String((error as Error)?.message ?? "");
  if (settings.sslMode === "prefer") return /does not support SSL/i.test(message);
  if (settings.sslMode === "allow") return (error as { code?: string })?.code === "28000";
  return false;
}

function verifying(settings: PostgresConnectionSettings, checkHostName: boolean): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: true };
  if (settings.sslRootCert && settings.sslRootCert !== "system") options.ca = readTlsFile(settings, settings.sslRootCert, "sslrootcert");
  const expectedHost = settings.host;
  options.checkServerIdentity = checkHostName ? (_dialled, certificate) => checkServerIdentity(expectedHost, certificate) : () => undefined;
  if (settings.hostaddr && isIP(expectedHost) === 0) options.servername = expectedHost;
  return withClientCertificate(settings, options);
}

function withClientCertificate(settings: PostgresConnectionSettings, options: ConnectionOptions): ConnectionOptions {
  if (settings.sslCert) options.cert = readTlsFile(settings, settings.sslCert, "sslcert");
  if (settings.sslKey) options.key = readTlsFile(settings, settings.sslKey, "sslkey");
  return options;
}

function readTlsFile(settings: PostgresConnectionSettings, path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new AppBackupError("DATABASE", `Cannot read the ${key} file "${path}" named in the connection string for ${settings.host}: ${(error as Error).message}`,
      `Check the path in ${key}; it must be a PEM file readable by this process.`);
  }
}

function clientConfig(settings: PostgresConnectionSettings, applicationName: string, ssl: TlsAttempt): pg.ClientConfig {
  const config: pg.ClientConfig = {
    host: settings.hostaddr ?? settings.host,
    port: settings.port,
    ssl,
    application_name: settings.applicationName ?? applicationName,
    connectionTimeoutMillis: 1000 * (settings.connectTimeoutSeconds || DEFAULT_CONNECT_TIMEOUT_SECONDS),
    keepAlive: true,
  };
  if (settings.user !== undefined) config.user = settings.user;
  if (settings.password !== undefined) config.password = settings.password;
  if (settings.database !== undefined) config.database = settings.database;
  if (settings.options !== undefined) config.options = settings.options;
  return config;
}
