import { AppBackupError } from "../../errors.js";
import { describeMysqlSettings, type MysqlConnectionSettings } from "./connection-string.js";
import { causeWithoutPassword, redactPassword } from "../redact-password.js";

interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
}

const TLS_VERIFY_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const CONNECTION_LOST_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "EPIPE",
  "ER_CONNECTION_KILLED",
  "ER_SERVER_SHUTDOWN",
  "ER_QUERY_INTERRUPTED",
]);

/**
 * Turns a mysql2 or socket error into a DATABASE error naming the server and database,
 * with the password scrubbed from anything the server echoed.
 */
export function toMysqlError(error: unknown, settings: MysqlConnectionSettings, action: string): AppBackupError {
  if (error instanceof AppBackupError) return error;
  const driverError = (error ?? {}) as DriverError;
  const code = driverError.code ?? "";
  const target = describeMysqlSettings(settings);
  const serverText = redactPassword(driverError.sqlMessage ?? driverError.message ?? String(error), settings.password);
  const make = (message: string, hint?: string) =>
    new AppBackupError("DATABASE", `Cannot ${action} on ${target}: ${message}`, hint, { cause: causeWithoutPassword(error, settings.password) });

  if (code === "ECONNREFUSED") return make("the connection was refused.", "Check the host and port, and that the server is running and reachable from here.");
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return make(`the host name "${settings.host}" does not resolve.`, "Check the server name in the connection string.");
  if (code === "ETIMEDOUT" || code === "ECONNABORTED" || code === "EHOSTUNREACH" || code === "ENETUNREACH") {
    return make("the server did not answer in time.", "Check the host, port and firewall rules (the server must allow connections from this machine).");
  }
  if (code === "ER_SECURE_TRANSPORT_REQUIRED" || /insecure transport are prohibited/i.test(serverText)) {
    return make("the server only accepts TLS connections.", "Set SslMode=Required (or VerifyCA/VerifyFull) in the connection string.");
  }
  if (code === "ER_ACCESS_DENIED_ERROR" || code === "ER_ACCESS_DENIED_NO_PASSWORD_ERROR") {
    // MariaDB answers a plain connection to a TLS-only server (require_secure_transport) with "access denied" too.
    const tlsHint = settings.sslMode === "none" ? " The server may also refuse unencrypted connections: try SslMode=Required instead of None." : "";
    return make(`access denied for user "${settings.user}".`, `Check the user name and password in the connection string.${tlsHint}`);
  }
  if (code === "ER_DBACCESS_DENIED_ERROR" || code === "ER_TABLEACCESS_DENIED_ERROR" || code === "ER_SPECIFIC_ACCESS_DENIED_ERROR") {
    return make(serverText, `Grant user "${settings.user}" the privileges this needs on the database.`);
  }
  if (code === "ER_BAD_DB_ERROR") return make(`the database "${settings.database}" does not exist.`, "Check the database name, or create the database first.");
  if (code === "HANDSHAKE_NO_SSL_SUPPORT") {
    return make("the server does not support TLS, but the connection string requires it.", "Enable TLS on the server, or set SslMode=Preferred (or None) if an unencrypted connection is acceptable.");
  }
  // mysql2 reports every TLS failure as HANDSHAKE_SSL_ERROR with Node's message, e.g. "self-signed certificate in certificate chain".
  if (TLS_VERIFY_CODES.has(code) || (code === "HANDSHAKE_SSL_ERROR" && /certificate|altnames|issuer/i.test(serverText))) {
    return make(`the server's TLS certificate was not accepted (${serverText}).`, settings.sslCaFile
      ? `Check that ${settings.sslCaFile} holds the CA that signed the server certificate${settings.sslMode === "verify-full" ? " and that the certificate names this host" : ""}.`
      : "Set SslCa to the server's CA certificate file, or use SslMode=Required to encrypt without verifying the certificate.");
  }
  if (/^ERR_SSL_|^ERR_TLS_|EPROTO/.test(code) || /ssl|tls/i.test(code)) {
    return make(`the TLS handshake failed (${code}: ${serverText}).`, "Check the server's TLS configuration and the SslMode of the connection string.");
  }
  if (CONNECTION_LOST_CODES.has(code)) {
    return make(`the connection was lost (${serverText}).`, "The server closed the connection or the connection was killed; run the operation again.");
  }
  if (code === "ER_NET_PACKET_TOO_LARGE") {
    return make(serverText, "Raise max_allowed_packet on the server (the dump holds a statement larger than it).");
  }
  return make(code && !serverText.includes(code) ? `${serverText} (${code})` : serverText);
}
