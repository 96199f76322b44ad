import type { TableSummary } from "../types.js";
import type { ScriptPlan, TableDataPlan } from "./script.js";
import { batch, InsertBatcher, scriptFooter, scriptHeader, tableDataEpilogue, tableDataPrologue } from "./script-format.js";

/**
 * Writes the whole script: header, schema, each table's rows as they are read, keys and
 * modules, and the completion marker last. `readRows` yields a table's rows as arrays in
 * the plan's column order; `write` resolves when the destination can take more.
 */
export async function writeScript(
  plan: ScriptPlan,
  header: { database: string; productVersion: string; consistency: string },
  readRows: (table: TableDataPlan) => AsyncIterable<readonly unknown[]>,
  write: (text: string) => Promise<void>,
): Promise<TableSummary[]> {
  await write(scriptHeader(header));
  for (const text of plan.beforeData) await write(batch(text));
  const summaries: TableSummary[] = [];
  for (const table of plan.tables) {
    const batcher = new InsertBatcher(table);
    await write(`\n-- Data of ${table.qualifiedName}\n`);
    const prologue = tableDataPrologue(table);
    if (prologue) await write(prologue);
    for await (const row of readRows(table)) {
      const text = batcher.add(row);
      if (text) await write(text);
    }
    const last = batcher.flush();
    if (last) await write(last);
    const epilogue = tableDataEpilogue(table, batcher.count);
    if (epilogue) await write(epilogue);
    summaries.push({ name: table.name, rows: batcher.count });
  }
  await write("\n");
  for (const text of plan.afterData) await write(batch(text));
  await write(scriptFooter(summaries.length, summaries.reduce((sum, table) => sum + table.rows, 0)));
  return summaries;
}
