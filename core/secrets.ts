import { credentialSpans, maskSpans } from "./connection-string-credentials.js";
import { maskCredentialAssignments } from "./credential-assignments.js";

/**
 * Secrets (SAS tokens, account keys, database passwords) must never reach a log,
 * an error, an output or a manifest. Everything user-facing passes through a
 * Redactor that knows the configured secrets, and through pattern rules that
 * catch credentials in text we did not produce ourselves (SDK error messages
 * that echo a URL, for example).
 *
 * A secret is masked whole, at any length. Secrets of 4 characters or more are
 * masked wherever they appear; shorter ones would mask ordinary words (a
 * password `a` is in every sentence), so they are masked where they stand as a
 * credential: in the registered connection strings, parsed as their driver
 * parses them, and after a `password=`-like key or in a URL's userinfo.
 */
const shortestSecretMaskedEverywhere = 4;

export class Redactor {
  private readonly secrets = new Set<string>();
  /** Registered connection strings, as written, and the same text with every credential masked. */
  private readonly connectionStrings = new Map<string, string>();

  /** Registers a secret value, in every form it may be written in (URL-encoded, JSON, quoted, XML). */
  add(secret: string | undefined): void {
    if (!secret || secret.length < shortestSecretMaskedEverywhere) return;
    for (const form of writtenForms(secret)) this.secrets.add(form);
  }

  addAll(secrets: Iterable<string | undefined>): void {
    for (const secret of secrets) this.add(secret);
  }

  /**
   * Registers a connection string: wherever it appears it is replaced by itself with its
   * credentials masked, and its credentials are registered as secrets.
   * `type` is Azure's connection-string type (it says which driver parses the string).
   */
  addConnectionString(value: string | undefined, type?: string): void {
    if (!value || value.trim() === "") return;
    this.addAll(secretsInConnectionString(value, type));
    for (const written of new Set([value, value.trim()])) {
      const masked = redactConnectionString(written, type);
      if (masked !== written) this.connectionStrings.set(written, masked);
    }
  }

  /** Adds everything another redactor knows. */
  include(other: Redactor): void {
    for (const secret of other.secrets) this.secrets.add(secret);
    for (const [written, masked] of other.connectionStrings) this.connectionStrings.set(written, masked);
  }

  /** The secrets masked everywhere, in each written form (what a log masker should be told). */
  get values(): string[] {
    return [...this.secrets];
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so that a string containing another one is replaced whole.
    for (const [written, masked] of [...this.connectionStrings].sort(([a], [b]) => b.length - a.length)) {
      out = out.split(written).join(masked);
      const inJson = jsonEscaped(written);
      if (inJson !== written) out = out.split(inJson).join(jsonEscaped(masked));
    }
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join("***");
    }
    return redactPatterns(out);
  }
}

/** The forms a secret takes when written into a URL, a JSON string, an ADO.NET or libpq quoted value, or XML. */
function writtenForms(secret: string): Set<string> {
  return new Set([
    secret,
    encodeURIComponent(secret),
    jsonEscaped(secret),
    secret.replace(/"/g, '""'),
    secret.replace(/'/g, "''"),
    secret.replace(/[\\']/g, "\\$&"),
    secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;"),
  ]);
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * The connection string with every credential masked, parsed as its driver parses it; the rest
 * (host, user, database, options such as `ssl=True`) is kept as written. With `keepReferences`,
 * a credential written as a `${env:VAR}` reference is kept: it names the secret without holding it.
 */
export function redactConnectionString(value: string, type?: string, { keepReferences = false } = {}): string {
  const spans = credentialSpans(value, type);
  const masked = spans
    ? maskSpans(value, spans, (span) => keepReferences && value.slice(span.start, span.end).includes("${env:"))
    : value;
  // A credential the parser could not place (a string in no valid form) is still masked by pattern.
  return keepReferences ? maskCredentialAssignments(masked) : redactPatterns(masked);
}

const patternRules: Array<[RegExp, string]> = [
  // SAS query parameters: the signature is the secret, the rest says what it grants.
  [/([?&](?:sig|se|sp|sv|ss|srt|sr|st|spr|skoid|sktid|skt|ske|sks|skv|sdd|saoid|suoid|scid|ses)=)[^&\s"'<>]*/gi, "$1***"],
  [/(AccountKey\s*=\s*)[^;\s"'<>]+/gi, "$1***"],
  [/(SharedAccessSignature\s*=\s*)[^;\s"'<>]+/gi, "$1***"],
  // user:password@host in URLs of any scheme; the userinfo ends at the authority's last "@", as URL parsers read it.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@"'<>]*:)[^/?#\s]*(@)/gi, "$1***$2"],
];

/** Credentials in text by pattern alone: SAS signatures, account keys, `password=` values, URL userinfo. */
export function redactPatterns(text: string): string {
  let out = maskCredentialAssignments(text);
  for (const [pattern, replacement] of patternRules) out = out.replace(pattern, replacement);
  return out;
}

/** A URL as safe to print: no query string (SAS) and no user info. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = "";
    parsed.username = "";
    parsed.password = "";
    parsed.hash = "";
    return parsed.toString();
  } catch {
    return redactPatterns(url.replace(/\?.*$/, ""));
  }
}

/**
 * The credentials of a connection string of any engine, to register with a Redactor: each
 * value as the driver reads it and as it is written (quoted, percent-encoded), and a SAS query.
 */
export function secretsInConnectionString(value: string, type?: string): string[] {
  const found: string[] = [];
  const spans = credentialSpans(value, type);
  if (spans) {
    for (const span of spans) {
      found.push(span.value, unquote(value.slice(span.start, span.end)));
    }
  } else {
    // In no form a driver parses: what the patterns would mask.
    for (const match of value.matchAll(/(?:^|;)\s*(?:Password|Pwd|AccountKey|SharedAccessSignature|SharedAccessKey)\s*=\s*("(?:[^"]|"")*"|'(?:[^']|'')*'|[^;]*)/gi)) {
      found.push(unquote(match[1]!.trim()));
    }
    for (const match of value.matchAll(/\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+)/gi)) {
      found.push(unquote(match[1]!).replace(/\\(.)/g, "$1"));
    }
  }
  const sas = value.match(/\?(.*\bsig=.*)$/);
  if (sas) found.push(sas[1]!);
  return [...new Set(found)].filter((s) => s.length > 0);
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1);
  return value;
}
