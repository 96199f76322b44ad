/** Text safe inside a Markdown table cell or list item: no HTML, no column breaks, one line. */
export function cell(text: string | number): string {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n/g, " ");
}

/** Text safe as a Markdown paragraph: no HTML; its line breaks kept. */
export function paragraph(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, "<br>\n");
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(headers), `| ${headers.map(() => "---").join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** A two-column table of labelled values; rows without a value are left out. */
export function facts(rows: Array<[string, string | number | undefined]>): string {
  return table(
    ["", ""],
    rows.filter((row): row is [string, string | number] => row[1] !== undefined && row[1] !== ""),
  );
}

export function list(items: string[], limit = 50): string {
  const shown = items.slice(0, limit).map((item) => `- ${cell(item)}`);
  if (items.length > limit) shown.push(`- … and ${items.length - limit} more (see the backup's log)`);
  return shown.join("\n");
}
