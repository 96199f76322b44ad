/**
 * ADO.NET connection strings (`Key=Value;Key2='quoted; value'`) as Azure stores them for
 * SQL Server, MySQL and PostgreSQL. Keys are case-insensitive and may contain spaces;
 * values may be quoted with `'` or `"` (a doubled quote inside escapes it) so they can hold `;`.
 */
export type AdoNetPairs = Map<string, string>;

/** Normalizes a key for lookups: lower case, no spaces, dashes or underscores (`User ID` = `userid`). */
export function normalizeAdoNetKey(key: string): string {
  return key.toLowerCase().replace(/[\s_-]+/g, "");
}

/** One `Key=Value` pair and where its value is written in the text (quotes included). */
export interface AdoNetPart {
  /** Normalized (see `normalizeAdoNetKey`). */
  key: string;
  /** Unquoted, with doubled quotes undone. */
  value: string;
  valueStart: number;
  valueEnd: number;
}

/**
 * Parses into a map keyed by normalized key. Throws a plain Error with a message that
 * quotes only keys, never values (values may be passwords).
 */
export function parseAdoNetConnectionString(text: string): AdoNetPairs {
  const pairs: AdoNetPairs = new Map();
  for (const part of adoNetParts(text)) pairs.set(part.key, part.value);
  return pairs;
}

/** The pairs in the order written, with the span of each value, so a value can be replaced in place. */
export function adoNetParts(text: string): AdoNetPart[] {
  const parts: AdoNetPart[] = [];
  let position = 0;
  while (position < text.length) {
    while (position < text.length && (text[position] === ";" || /\s/.test(text[position]!))) position++;
    if (position >= text.length) break;
    const equals = findKeyEnd(text, position);
    if (equals < 0) {
      throw new Error(`a part of the connection string has no "=" (expected Key=Value pairs separated by ";")`);
    }
    const key = normalizeAdoNetKey(text.slice(position, equals).replace(/==/g, "=").trim());
    if (key === "") throw new Error(`a part of the connection string has an empty key before "="`);
    position = equals + 1;
    while (position < text.length && /[ \t]/.test(text[position]!)) position++;
    const valueStart = position;
    let valueEnd: number;
    const quote = text[position];
    let value: string;
    if (quote === "'" || quote === '"') {
      let end = position + 1;
      let collected = "";
      for (;;) {
        const next = text.indexOf(quote, end);
        if (next < 0) throw new Error(`the value of "${key}" opens a quote that is never closed`);
        collected += text.slice(end, next);
        if (text[next + 1] === quote) {
          collected += quote;
          end = next + 2;
          continue;
        }
        end = next + 1;
        break;
      }
      value = collected;
      valueEnd = end;
      position = end;
      while (position < text.length && /\s/.test(text[position]!)) position++;
      if (position < text.length && text[position] !== ";") {
        throw new Error(`the quoted value of "${key}" is followed by text before the next ";"`);
      }
    } else {
      const end = text.indexOf(";", position);
      const raw = end < 0 ? text.slice(position) : text.slice(position, end);
      value = raw.trim();
      valueEnd = valueStart + raw.trimEnd().length;
      position = end < 0 ? text.length : end;
    }
    parts.push({ key, value, valueStart, valueEnd });
  }
  return parts;
}

/** The value of the first key present among its synonyms (given in any spelling). */
export function pickAdoNetValue(pairs: AdoNetPairs, synonyms: readonly string[]): string | undefined {
  for (const synonym of synonyms) {
    const value = pairs.get(normalizeAdoNetKey(synonym));
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Whether the text looks like `Key=Value;...` rather than a URL. */
export function looksLikeAdoNet(text: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim()) && text.includes("=");
}

function findKeyEnd(text: string, from: number): number {
  let index = from;
  while (index < text.length) {
    if (text[index] === ";") return -1;
    if (text[index] === "=") {
      if (text[index + 1] === "=") {
        index += 2;
        continue;
      }
      return index;
    }
    index++;
  }
  return -1;
}

/** Parses ADO.NET booleans (`true/false/yes/no/1/0`, plus SQL Server's `mandatory/optional/strict`). */
export function parseAdoNetBoolean(value: string): boolean | undefined {
  switch (value.trim().toLowerCase()) {
    case "true":
    case "yes":
    case "1":
    case "mandatory":
    case "strict":
      return true;
    case "false":
    case "no":
    case "0":
    case "optional":
      return false;
    default:
      return undefined;
  }
}
