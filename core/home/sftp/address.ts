import { AppBackupError } from "../../errors.js";

/** Where a remote home is: an SFTP server, the user to log in as, and the home's absolute path there. */
export interface SftpAddress {
  user: string;
  /** The host name or IP address, IPv6 without brackets (`::1`). */
  host: string;
  port: number;
  /** Absolute, without a trailing slash; never `/` alone. */
  path: string;
}

export const defaultSftpPort = 22;

const addressForm = "sftp://user@host[:port]/absolute/path";

/** True when a configured home names an SFTP server rather than a local folder. */
export function isSftpAddress(text: string): boolean {
  return /^sftp:\/\//i.test(text.trim());
}

/**
 * Parses `sftp://user@host[:port]/path`. Parsed by hand rather than with `URL`, which
 * treats the host of an unknown scheme as opaque text and would let a password
 * through into messages when it fails.
 */
export function parseSftpAddress(text: string): SftpAddress {
  const trimmed = text.trim();
  const match = /^sftp:\/\/([^/]*)(.*)$/is.exec(trimmed);
  if (!match) throw invalid(redact(trimmed), `it does not start with sftp://`);
  const authority = match[1]!;
  const rawPath = match[2]!;
  const at = authority.lastIndexOf("@");
  const userInfo = at >= 0 ? authority.slice(0, at) : "";
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const shown = redact(trimmed);

  if (userInfo.includes(":") || (at < 0 && holdsPasswordWithSlash(trimmed))) {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `The home address ${shown} contains a password; a password written into the home is not accepted.`,
      // The literal `${env:NAME}` is what the user writes in the configuration.
      "Remove it from the address and give it as `password: ${env:NAME}` instead (better: use a key, `privateKey: ${env:NAME}` or `privateKeyFile`).",
    );
  }
  if (!userInfo) throw invalid(shown, "it names no user (sftp://user@host/path)");
  const user = decode(userInfo, shown, "user");

  const { host, port } = parseHostPort(hostPort, shown);
  const path = parsePath(rawPath, shown);
  return { user, host, port, path };
}

/** The address for messages: `sftp://user@host:port/path`, never a secret. */
export function describeSftpAddress(address: SftpAddress): string {
  return `sftp://${address.user}@${hostForUrl(address.host)}:${address.port}${address.path}`;
}

/** `host:port` for messages (`[::1]:22` for IPv6). */
export function describeHostPort(address: Pick<SftpAddress, "host" | "port">): string {
  return `${hostForUrl(address.host)}:${address.port}`;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function parseHostPort(text: string, shown: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw invalid(shown, "its IPv6 address has no closing ]");
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest && !rest.startsWith(":")) throw invalid(shown, "something follows the IPv6 address other than :port");
    portText = rest ? rest.slice(1) : undefined;
    if (!/^[0-9a-f:.]+$/i.test(host) || !host.includes(":")) throw invalid(shown, `[${host}] is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(":");
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    host = decode(host, shown, "host");
    if (host.includes(":")) throw invalid(shown, "an IPv6 address must be written in brackets, e.g. sftp://user@[::1]/path");
  }
  if (!host) throw invalid(shown, "it names no host");
  if (/[\s/@\\]/.test(host)) throw invalid(shown, `"${host}" is not a host name`);
  let port = defaultSftpPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw invalid(shown, `"${portText}" is not a port (1 to 65535)`);
    }
    port = Number(portText);
  }
  return { host, port };
}

function parsePath(rawPath: string, shown: string): string {
  if (rawPath.includes("?") || rawPath.includes("#")) throw invalid(shown, "a home address takes no ?query or #fragment (write ? as %3F, # as %23)");
  if (!rawPath || rawPath === "/") throw invalid(shown, "it names no folder: / alone, the server's whole file system, cannot be a home");
  const segments = rawPath.split("/").slice(1);
  const decoded = segments.map((segment) => decode(segment, shown, "path"));
  if (decoded[0] === "~") throw invalid(shown, "its path must be absolute; ~ (the user's home on the server) is not expanded");
  if (decoded.some((segment) => segment === "." || segment === "..")) throw invalid(shown, "its path must not contain . or .. segments");
  if (decoded.some((segment) => segment.includes("/") || segment.includes("\0"))) throw invalid(shown, "its path contains an encoded / or NUL");
  const kept = decoded.filter((segment) => segment !== "");
  if (kept.length === 0) throw invalid(shown, "it names no folder: / alone, the server's whole file system, cannot be a home");
  return `/${kept.join("/")}`;
}

function decode(text: string, shown: string, part: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(shown, `its ${part} has a malformed %-escape`);
  }
}

/** `sftp://user:pa/ss@host/...`: a password holding a `/` cuts the authority short; a port (`host:22/...`) does not look so. */
function holdsPasswordWithSlash(text: string): boolean {
  const at = text.indexOf("@");
  const colon = text.indexOf(":", "sftp://".length);
  if (at < 0 || colon < 0 || colon > at) return false;
  const afterColon = text.slice(colon + 1, at).split("/")[0]!;
  return !/^\d+$/.test(afterColon);
}

function invalid(shown: string, why: string): AppBackupError {
  return new AppBackupError("CONFIG_INVALID", `The home address ${shown} is not valid: ${why}.`, `Write it as ${addressForm}, e.g. sftp://deploy@example.com:2222/srv/app.`);
}

/**
 * The address as typed, for messages, with anything between a `:` and the first `@`
 * masked: a password holding a `/` is still masked, and masking a port by mistake is harmless.
 */
function redact(text: string): string {
  const at = text.indexOf("@");
  const colon = text.indexOf(":", "sftp://".length);
  if (at < 0 || colon < 0 || colon > at) return text;
  return `${text.slice(0, colon)}:***${text.slice(at)}`;
}
