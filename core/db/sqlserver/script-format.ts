import { reseedStatement, type TableDataPlan } from "./script.js";
import { encodeValue } from "./tsql-literal.js";

/** The dump's last line; a script without it was cut short and the loader refuses it. */
export const DUMP_COMPLETE_MARKER = "-- Dump completed:";

/** One batch as sqlcmd reads it: the text, then a line with GO. */
export function batch(text: string): string {
  return `${text}\nGO\n`;
}

export function scriptHeader(info: { database: string; productVersion: string; consistency: string }): string {
  return [
    `-- app-backup dump of SQL Server database [${info.database.replace(/]/g, "]]")}]`,
    `-- Server version: ${info.productVersion}`,
    `-- Consistency: ${info.consistency}`,
    "-- Restore into an empty database with: sqlcmd -S <server> -d <database> -U <user> -b -x -f 65001 -i this-file.sql",
    "-- The file is UTF-8; control characters in strings are written as NCHAR(n).",
    "",
    batch(
      [
        "SET ANSI_NULLS ON;",
        "SET ANSI_PADDING ON;",
        "SET ANSI_WARNINGS ON;",
        "SET ARITHABORT ON;",
        "SET CONCAT_NULL_YIELDS_NULL ON;",
        "SET NUMERIC_ROUNDABORT OFF;",
        "SET QUOTED_IDENTIFIER ON;",
        "SET DATEFORMAT ymd;",
        "SET NOCOUNT ON;",
      ].join("\n"),
    ),
  ].join("\n");
}

export function scriptFooter(tables: number, rows: number): string {
  return `${DUMP_COMPLETE_MARKER} ${tables} tables, ${rows} rows\n`;
}

/**
 * Groups a table's rows into INSERT statements of at most 1000 rows (SQL Server's limit for
 * a VALUES list) and about 1 MB, one statement per batch.
 */
export class InsertBatcher {
  private rows: string[] = [];
  private bytes = 0;
  count = 0;

  constructor(
    private readonly plan: TableDataPlan,
    private readonly maxRows = 1000,
    private readonly maxBytes = 1 << 20,
  ) {}

  /** Adds a row; returns a finished batch when this row completed one. */
  add(values: readonly unknown[]): string | undefined {
    const kinds = this.plan.kinds;
    let row = "(";
    for (let index = 0; index < kinds.length; index++) {
      if (index > 0) row += ", ";
      row += encodeValue(values[index], kinds[index]!);
    }
    row += ")";
    this.rows.push(row);
    this.bytes += row.length;
    this.count++;
    return this.rows.length >= this.maxRows || this.bytes >= this.maxBytes ? this.flush() : undefined;
  }

  flush(): string | undefined {
    if (this.rows.length === 0) return undefined;
    const text = batch(`${this.plan.insertPrefix}${this.rows.join(",\n")};`);
    this.rows = [];
    this.bytes = 0;
    return text;
  }
}

/** What goes before a table's rows: identity values are inserted as they were. */
export function tableDataPrologue(plan: TableDataPlan): string {
  return plan.hasIdentity ? batch(`SET IDENTITY_INSERT ${plan.qualifiedName} ON;`) : "";
}

export function tableDataEpilogue(plan: TableDataPlan, rowsInserted: number): string {
  let text = plan.hasIdentity ? batch(`SET IDENTITY_INSERT ${plan.qualifiedName} OFF;`) : "";
  const reseed = reseedStatement(plan, rowsInserted);
  if (reseed) text += batch(reseed);
  return text;
}
