/**
 * Row values to T-SQL literals. The dump's SELECT converts the types the driver would
 * round (decimal, money, date/time types) to text on the server (`selectExpression`), so
 * every value arrives either exact or as text, and `encodeValue` writes it back exactly.
 */

/** How a column's values are selected and written. */
export type ValueKind =
  | "integer" // tinyint, smallint, int: JS numbers
  | "bigint" // the driver gives strings
  | "exact-numeric" // decimal, numeric, money, smallmoney: selected as text, written unquoted
  | "float" // float, real: JS numbers
  | "bit"
  | "string" // char, varchar, text, nchar, nvarchar, ntext, xml
  | "binary" // binary, varbinary, image, and CLR types selected as varbinary
  | "temporal" // date, time, datetime2, datetimeoffset, datetime, smalldatetime: selected as text
  | "guid"
  | "variant"; // sql_variant: selected as text (its base type is not kept)

/** Types whose values are not inserted: the server computes them. */
export const NOT_INSERTABLE_TYPES = new Set(["timestamp", "rowversion"]);

export function valueKindFor(systemTypeName: string | null, typeName: string): ValueKind {
  const type = (systemTypeName ?? typeName).toLowerCase();
  switch (type) {
    case "tinyint":
    case "smallint":
    case "int":
      return "integer";
    case "bigint":
      return "bigint";
    case "decimal":
    case "numeric":
    case "money":
    case "smallmoney":
      return "exact-numeric";
    case "float":
    case "real":
      return "float";
    case "bit":
      return "bit";
    case "char":
    case "varchar":
    case "text":
    case "nchar":
    case "nvarchar":
    case "ntext":
    case "xml":
    case "sysname":
      return "string";
    case "binary":
    case "varbinary":
    case "image":
      return "binary";
    case "date":
    case "time":
    case "datetime2":
    case "datetimeoffset":
    case "datetime":
    case "smalldatetime":
      return "temporal";
    case "uniqueidentifier":
      return "guid";
    case "sql_variant":
      return "variant";
    default:
      // hierarchyid, geometry, geography and other CLR types: their serialized bytes.
      return "binary";
  }
}

/**
 * The SELECT expression for a column, e.g. `CONVERT(varchar(50), [total])`.
 * Text forms are the exact, language-independent ones: style 126 (ISO 8601, `T`
 * separator) for datetime/smalldatetime, the default style 121 (all fractional digits,
 * offset kept) for the newer date/time types, style 2 (4 decimals, no separators) for money.
 */
export function selectExpression(columnName: string, systemTypeName: string | null, typeName: string): string {
  const column = quoteName(columnName);
  switch ((systemTypeName ?? typeName).toLowerCase()) {
    case "decimal":
    case "numeric":
      return `CONVERT(varchar(50), ${column})`;
    case "money":
    case "smallmoney":
      return `CONVERT(varchar(30), ${column}, 2)`;
    case "datetime":
    case "smalldatetime":
      return `CONVERT(varchar(30), ${column}, 126)`;
    case "date":
    case "time":
    case "datetime2":
    case "datetimeoffset":
      return `CONVERT(varchar(40), ${column}, 121)`;
    case "sql_variant":
      return `CONVERT(nvarchar(4000), ${column})`;
    default:
      return valueKindFor(systemTypeName, typeName) === "binary" && systemTypeName === null ? `CONVERT(varbinary(max), ${column})` : column;
  }
}

/** A T-SQL literal for one value of a column of the given kind. */
export function encodeValue(value: unknown, kind: ValueKind): string {
  if (value === null || value === undefined) return "NULL";
  switch (kind) {
    case "integer":
    case "bigint":
    case "exact-numeric":
      return numericText(value);
    case "float":
      return floatLiteral(value as number);
    case "bit":
      return value === true || value === 1 || value === "1" ? "1" : "0";
    case "binary":
      return binaryLiteral(value as Uint8Array);
    case "guid":
    case "temporal":
      return `'${String(value).replace(/'/g, "''")}'`;
    case "string":
    case "variant":
      return unicodeLiteral(String(value));
  }
}

function numericText(value: unknown): string {
  const text = typeof value === "bigint" ? value.toString() : String(value).trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`not a number: ${text}`);
  return text;
}

/**
 * The shortest decimal text that reads back as the same double, in float-literal form
 * (with an exponent, so the server parses it as float rather than as decimal).
 * SQL Server float has no NaN, infinities or subnormals, so they cannot occur.
 */
export function floatLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`SQL Server float cannot hold ${value}`);
  if (Object.is(value, -0)) return "-0E0";
  const text = String(value).toUpperCase();
  return text.includes("E") ? text.replace("E+", "E") : `${text}E0`;
}

export function binaryLiteral(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex").toUpperCase()}`;
}

const NVARCHAR_LITERAL_LIMIT = 4000;

/**
 * An N'' literal. Control characters and unpaired surrogates become NCHAR(n) so the script
 * stays one value per line, survives line-ending conversion and holds only valid UTF-8;
 * `GO` can then never start a line inside a value, and `$(` is split so sqlcmd never sees
 * a scripting variable. Characters beyond the BMP stay as they
 * are (a surrogate pair in nvarchar). Concatenations longer than 4000 characters start
 * from nvarchar(max), which keeps SQL Server from truncating them to 4000.
 */
export function unicodeLiteral(text: string): string {
  const parts: string[] = [];
  let run = "";
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        run += text[index]! + text[index + 1]!;
        index++;
        continue;
      }
    }
    if (code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff)) {
      if (run !== "") parts.push(`N'${run.replace(/'/g, "''")}'`);
      run = "";
      parts.push(`NCHAR(${code})`);
      continue;
    }
    if (code === 0x28 && run.endsWith("$")) {
      // sqlcmd substitutes $(name) even inside string literals; split it so it never appears.
      parts.push(`N'${run.replace(/'/g, "''")}'`);
      run = "";
    }
    run += text[index]!;
  }
  if (run !== "" || parts.length === 0) parts.push(`N'${run.replace(/'/g, "''")}'`);
  if (parts.length === 1) return parts[0]!;
  const joined = parts.join(" + ");
  return text.length > NVARCHAR_LITERAL_LIMIT ? `CAST(N'' AS nvarchar(max)) + ${joined}` : joined;
}

/** [name] with `]` doubled. */
export function quoteName(name: string): string {
  return `[${name.replace(/]/g, "]]")}]`;
}
