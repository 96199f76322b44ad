import { AppBackupError } from "../../errors.js";
import { describePostgresSettings, type PostgresConnectionSettings } from "./connection-string.js";
import { causeWithoutPassword, redactPassword } from "../redact-password.js";

interface DriverError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  where?: string;
}

const TLS_UNTRUSTED_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);
const TLS_DATE_CODES = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const UNREACHABLE_CODES = new Set(["ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);
const CONNECTION_LOST_CODES = new Set(["ECONNRESET", "EPIPE", "57P01", "57P02", "57P03"]);

/**
 * Turns a pg, socket or TLS error into a DATABASE error that names the server and database
 * and says what to do, with the password scrubbed from anything the server echoed.
 */
export function toPostgresError(error: unknown, settings: PostgresConnectionSettings, action: string, context?: string): AppBackupError {
  if (error instanceof AppBackupError) return error;
  const driverError = (error ?? {}) as DriverError;
  const code = driverError.code ?? "";
  const password = settings.password ?? "";
  const serverText = redactPassword(driverError.message ?? String(error), password);
  const target = describePostgresSettings(settings);
  const make = (message: string, hint?: string) =>
    new AppBackupError("DATABASE", `Cannot ${action} on ${target}: ${message}${context ? `\n${redactPassword(context, password)}` : ""}`, hint, {
      cause: causeWithoutPassword(error, password),
    });

  if (code === "28P01") {
    return make(`password authentication failed for user "${settings.user ?? ""}".`, "Check the user name and password in the connection string.");
  }
  if (code === "3D000") {
    return make(`the database does not exist (${serverText}).`, "Check the database name in the connection string, or create the database first.");
  }
  if (code === "28000" && /no encryption/i.test(serverText) && settings.sslMode !== "require" && !settings.sslMode.startsWith("verify")) {
    return make(`the server refused an unencrypted connection (${serverText}).`, "Set sslmode=require (or verify-ca/verify-full) in the connection string.");
  }
  if (code === "28000" || code === "42501") {
    return make(serverText, `Check that user "${settings.user ?? ""}" may connect from this machine and has the privileges this needs.`);
  }
  if (code === "ECONNREFUSED") {
    return make("the connection was refused.", "Check the host and port, and that the server is running and reachable from here.");
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return make(`the host name "${settings.host}" does not resolve.`, "Check the server name in the connection string.");
  }
  if (UNREACHABLE_CODES.has(code) || /timeout expired|connection timeout/i.test(serverText)) {
    return make("the server did not answer in time.", "Check the host, port and firewall rules (the server must allow connections from this machine).");
  }
  if (/does not support SSL/i.test(serverText)) {
    return make(`the server does not support TLS, but sslmode=${settings.sslMode} requires it.`, "Enable TLS on the server, or use sslmode=prefer (or disable) if an unencrypted connection is acceptable.");
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return make(`TLS failed: the server's certificate is not valid for the host name "${settings.host}" (${serverText}).`,
      "Connect with the host name the certificate was issued for, or use sslmode=verify-ca to check only the CA.");
  }
  if (TLS_UNTRUSTED_CODES.has(code)) {
    return make(`TLS failed: the server's certificate is not signed by a trusted CA (${code}).`, settings.sslRootCert && settings.sslRootCert !== "system"
      ? `Check that ${settings.sslRootCert} (sslrootcert) holds the CA that signed the server's certificate.`
      : "Set sslrootcert to the file of the CA that signed the server's certificate, or use sslmode=require to encrypt without verifying it.");
  }
  if (TLS_DATE_CODES.has(code)) {
    return make(`TLS failed: the server's certificate is outside its validity period (${code}).`, "Renew the server's certificate, or check this machine's clock.");
  }
  if (/^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(code) || /SSL connection|ssl3|tls/i.test(serverText)) {
    return make(`the TLS handshake failed (${serverText}).`, "Check the server's TLS configuration and the sslmode of the connection string.");
  }
  if (CONNECTION_LOST_CODES.has(code) || /Connection terminated|terminating connection|server closed the connection/i.test(serverText)) {
    return make(`the connection was lost (${serverText}).`, "The server closed the connection or the session was terminated; run the operation again.");
  }
  const details = [driverError.detail, driverError.hint, driverError.where].filter((x): x is string => !!x).map((x) => redactPassword(x, password));
  const message = [code && /^[0-9A-Z]{5}$/.test(code) ? `${serverText} (SQLSTATE ${code})` : serverText, ...details].join("\n");
  return make(message);
}
