/**
 * Secrets (SAS tokens, account keys, database passwords) must never reach a log,
 * an error, an output or a manifest. Everything user-facing passes through a
 * Redactor that knows the configured secrets, and through pattern rules that
 * catch credentials in text we did not produce ourselves (SDK error messages
 * that echo a URL, for example).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a secret value; very short values are ignored, they would mask ordinary words. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 4) return;
    this.secrets.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.secrets.add(encoded);
  }

  addAll(secrets: Iterable<string | undefined>): void {
    for (const secret of secrets) this.add(secret);
  }

  get values(): string[] {
    return [...this.secrets];
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so that a secret containing another one is masked whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join("***");
    }
    return redactPatterns(out);
  }
}

const patternRules: Array<[RegExp, string]> = [
  // SAS query parameters: the signature is the secret, the rest says what it grants.
  [/([?&](?:sig|se|sp|sv|ss|srt|sr|st|spr|skoid|sktid|skt|ske|sks|skv|sdd|saoid|suoid|scid|ses)=)[^&\s"'<>]*/gi, "$1***"],
  [/(AccountKey\s*=\s*)[^;\s"'<>]+/gi, "$1***"],
  [/(SharedAccessSignature\s*=\s*)[^;\s"'<>]+/gi, "$1***"],
  [/((?:^|[;\s"'])\s*(?:Password|Pwd)\s*=\s*)(?:"[^"]*"|'[^']*'|[^;\s"'<>]+)/gi, "$1***"],
  [/(\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'"]+)/gi, "$1***"],
  // user:password@host in URLs of any scheme.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@"'<>]*:)[^@/\s"'<>]+(@)/gi, "$1***$2"],
];

export function redactPatterns(text: string): string {
  let out = text;
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

/** The credential parts of a connection string of any engine, to register with a Redactor. */
export function secretsInConnectionString(value: string): string[] {
  const found: string[] = [];
  for (const match of value.matchAll(/(?:^|;)\s*(?:Password|Pwd|AccountKey|SharedAccessSignature|SharedAccessKey)\s*=\s*("[^"]*"|'[^']*'|[^;]*)/gi)) {
    found.push(unquote(match[1]!.trim()));
  }
  for (const match of value.matchAll(/\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+)/gi)) {
    found.push(unquote(match[1]!).replace(/\\(.)/g, "$1"));
  }
  const url = value.match(/^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:([^@/]+)@/i);
  if (url) {
    found.push(url[1]!);
    try {
      found.push(decodeURIComponent(url[1]!));
    } catch {
      // An undecodable password is registered in its raw form only.
    }
  }
  const sas = value.match(/\?(.*\bsig=.*)$/);
  if (sas) found.push(sas[1]!);
  return found.filter((s) => s.length > 0);
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1);
  return value;
}
