/** A string literal; the dump sets standard_conforming_strings, so only quotes need doubling. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** `COMMENT ON kind target IS '...';`, or nothing when there is no comment. */
export function commentOn(kind: string, target: string, text: string | null | undefined): string {
  return text === null || text === undefined ? "" : `COMMENT ON ${kind} ${target} IS ${literal(text)};\n`;
}

/** ` WITH (fillfactor='70', ...)` from a reloptions array of `key=value` entries. */
export function withOptions(options: readonly string[] | null | undefined): string {
  if (!options || options.length === 0) return "";
  const parts = options.map((option) => {
    const equals = option.indexOf("=");
    return equals < 0 ? option : `${option.slice(0, equals)}=${literal(option.slice(equals + 1))}`;
  });
  return ` WITH (${parts.join(", ")})`;
}

/** Text for a `--` comment line: names may hold line breaks, which must not end the comment. */
export function commentLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}
