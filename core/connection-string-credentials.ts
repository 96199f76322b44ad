import { adoNetParts, normalizeAdoNetKey } from "./db/ado-net-connection-string.js";
import { libpqKeywordParts, postgresConnectionStringForm } from "./db/postgres/connection-string.js";

/**
 * Where the credentials of a connection string are written, found with the
 * parser the driver uses, so a credential is masked exactly as the driver
 * reads it: whole, whatever it holds (`@`, `;`, quotes, doubled quotes), and
 * nothing else is touched (`ssl=True`, the host, the user and the database stay).
 */

/** A credential's value in the text: the characters to mask (quotes included) and the value the driver sees. */
export interface CredentialSpan {
  start: number;
  end: number;
  value: string;
}

/** Keys whose value is a credential, normalized as ADO.NET keys are (`Account Key` = `accountkey`). */
const credentialKeys = new Set([
  "password",
  "pwd",
  "passwd",
  "sslpassword",
  "accountkey",
  "sharedaccesskey",
  "sharedaccesssignature",
  "clientsecret",
  "sig",
]);

export function isCredentialKey(key: string): boolean {
  return credentialKeys.has(normalizeAdoNetKey(key));
}

/**
 * The credential spans of a connection string. `type` is Azure's connection-string type;
 * it says which parser the driver uses (PostgreSQL's libpq `key=value` form, StackExchange.Redis's
 * comma-separated options). Undefined when the text is in no form a driver would parse.
 */
export function credentialSpans(text: string, type?: string): CredentialSpan[] | undefined {
  const offset = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const shift = (spans: CredentialSpan[]) => spans.map((span) => ({ ...span, start: span.start + offset, end: span.end + offset }));
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return shift(urlCredentialSpans(trimmed));
    if (isRedisForm(trimmed, type)) return shift(commaSeparatedCredentialSpans(trimmed));
    if (isPostgresType(type) || type === undefined) {
      if (postgresConnectionStringForm(trimmed) === "keywords") {
        return shift(libpqKeywordParts(trimmed).filter((part) => isCredentialKey(part.key)).map(spanOf));
      }
    }
    if (!trimmed.includes("=")) return undefined;
    return shift(adoNetParts(trimmed).filter((part) => isCredentialKey(part.key)).map(spanOf));
  } catch {
    return undefined;
  }
}

function spanOf(part: { value: string; valueStart: number; valueEnd: number }): CredentialSpan {
  return { start: part.valueStart, end: part.valueEnd, value: part.value };
}

function isPostgresType(type: string | undefined): boolean {
  return type !== undefined && /^postgres/i.test(type);
}

/** StackExchange.Redis: `host:6380,password=...,ssl=True,abortConnect=False`. */
function isRedisForm(text: string, type: string | undefined): boolean {
  if (type !== undefined && /^rediscache$/i.test(type)) return true;
  return type === undefined && !text.includes(";") && /^[^=,\s]+,/.test(text);
}

function commaSeparatedCredentialSpans(text: string): CredentialSpan[] {
  const spans: CredentialSpan[] = [];
  let start = 0;
  for (const option of text.split(",")) {
    const equals = option.indexOf("=");
    if (equals > 0 && isCredentialKey(option.slice(0, equals).trim())) {
      const valueStart = start + equals + 1;
      spans.push({ start: valueStart, end: start + option.length, value: text.slice(valueStart, start + option.length) });
    }
    start += option.length + 1;
  }
  return spans;
}

/**
 * The password of `scheme://user:password@host/...` and credential query parameters.
 * WHATWG URL parsing (what the drivers use) takes the last `@` of the authority; a `/`
 * left unencoded in a password would end the authority early, so the userinfo is taken
 * up to the last `@` before the query, which masks at least what the driver reads.
 */
function urlCredentialSpans(text: string): CredentialSpan[] {
  const spans: CredentialSpan[] = [];
  const authorityStart = text.indexOf("://") + 3;
  const queryStart = firstIndexOf(text, ["?", "#"], authorityStart);
  const at = text.lastIndexOf("@", queryStart - 1);
  if (at >= authorityStart) {
    const colon = text.indexOf(":", authorityStart);
    if (colon >= 0 && colon < at) spans.push({ start: colon + 1, end: at, value: safeDecode(text.slice(colon + 1, at)) });
  }
  if (text[queryStart] === "?") {
    const queryEnd = firstIndexOf(text, ["#"], queryStart);
    let position = queryStart + 1;
    for (const parameter of text.slice(queryStart + 1, queryEnd).split("&")) {
      const equals = parameter.indexOf("=");
      if (equals > 0 && isCredentialKey(safeDecode(parameter.slice(0, equals)))) {
        const valueStart = position + equals + 1;
        spans.push({ start: valueStart, end: position + parameter.length, value: safeDecode(parameter.slice(equals + 1)) });
      }
      position += parameter.length + 1;
    }
  }
  return spans;
}

function firstIndexOf(text: string, characters: string[], from: number): number {
  let first = text.length;
  for (const character of characters) {
    const index = text.indexOf(character, from);
    if (index >= 0 && index < first) first = index;
  }
  return first;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The text with each span replaced by `***`. */
export function maskSpans(text: string, spans: readonly CredentialSpan[], keep: (span: CredentialSpan) => boolean = () => false): string {
  let out = "";
  let position = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < position || keep(span)) continue;
    out += `${text.slice(position, span.start)}***`;
    position = span.end;
  }
  return out + text.slice(position);
}
