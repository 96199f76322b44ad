/** Rows of cells in left-aligned columns, two spaces apart; the last column is not padded. */
export function alignedRows(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
}

/** Left-aligned text table for terminal output. */
export function table(headers: string[], rows: string[][]): string {
  return alignedRows([headers, ...rows]).join("\n");
}
