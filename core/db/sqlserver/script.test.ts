import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { SqlServerCatalog } from "./catalog.js";
import { GoBatchSplitter } from "./batch-splitter.js";
import { planScript, scriptDropAll } from "./script.js";
import { writeScript } from "./script-writer.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/sqlserver/${name}`, import.meta.url));

async function loadCatalog(): Promise<SqlServerCatalog> {
  return JSON.parse(await readFile(fixture("catalog-shop.json"), "utf8")) as SqlServerCatalog;
}

/** Recorded rows as the driver gives them; binary values are stored as {"$hex": "..."}. */
async function loadRows(): Promise<Record<string, unknown[][]>> {
  return JSON.parse(await readFile(fixture("rows-shop.json"), "utf8"), (_key, value) =>
    value && typeof value === "object" && "$hex" in value ? Buffer.from(value.$hex as string, "hex") : value,
  ) as Record<string, unknown[][]>;
}

async function renderScript(): Promise<{ text: string; tables: Array<{ name: string; rows: number }> }> {
  const catalog = await loadCatalog();
  const rows = await loadRows();
  let text = "";
  const tables = await writeScript(
    planScript(catalog),
    { database: catalog.database.name, productVersion: catalog.database.product_version, consistency: "SNAPSHOT isolation transaction" },
    async function* (table) {
      yield* rows[table.name] ?? [];
    },
    async (chunk) => {
      text += chunk;
    },
  );
  return { text, tables };
}

describe("SQL Server script generation from recorded catalog rows", () => {
  it("writes the script sqlcmd runs: schema, data, keys, modules, marker", async () => {
    const { text } = await renderScript();
    const expected = await readFile(fixture("shop.expected.sql"), "utf8");
    // Module definitions keep the CRLF line ends they were created with; the expected file is LF only.
    expect(text.replace(/\r\n/g, "\n")).toBe(expected);
    expect(text).toContain("CREATE TRIGGER [sales].[trg_Orders_Audit] ON [sales].[Orders]\r\nAFTER INSERT, UPDATE\r\n");
  });

  it("summarizes every table with the rows written", async () => {
    const { tables } = await renderScript();
    expect(tables).toEqual([
      { name: "dbo.Attachments", rows: 3 },
      { name: "sales.AuditLog", rows: 0 },
      { name: "sales.Customers", rows: 2 },
      { name: "sales.Orders", rows: 2 },
    ]);
  });

  it("warns about what it cannot carry: table types, spatial indexes, encrypted modules", async () => {
    const plan = planScript(await loadCatalog());
    expect(plan.warnings).toEqual([
      "Table type dbo.IdList is not in the dump (table types are not backed up).",
      "Index SIX_Attachments_Spot on dbo.Attachments is a spatial index and is not in the dump; recreate it after a restore.",
      "The procedure dbo.usp_Secret is encrypted (WITH ENCRYPTION); its definition cannot be read and it is not in the dump.",
    ]);
  });

  it("selects values the driver would round as exact text, and leaves computed and rowversion columns out", async () => {
    const plan = planScript(await loadCatalog());
    const byName = new Map(plan.tables.map((table) => [table.name, table]));
    expect(byName.get("sales.Orders")!.selectSql).toBe(
      "SELECT [Id], [CustomerId], CONVERT(varchar(50), [Total]), CONVERT(varchar(30), [Discount], 2), CONVERT(varchar(40), [PlacedAt], 121), [Notes], [Status] FROM [sales].[Orders]",
    );
    expect(byName.get("sales.Customers")!.selectSql).toBe(
      "SELECT [Id], [Email], [Phone], [FirstName], [LastName], CONVERT(varchar(40), [CreatedAt], 121), [RowGuid] FROM [sales].[Customers]",
    );
    expect(byName.get("dbo.Attachments")!.selectSql).toBe(
      "SELECT [Id], [Content], [Magic], [Ratio], [Score], [IsActive], [Priority], CONVERT(varchar(30), [LegacyDate], 126), CONVERT(varchar(30), [ShortDate], 126), " +
        "CONVERT(varchar(40), [Day], 121), CONVERT(varchar(40), [TimeOfDay], 121), CONVERT(varbinary(max), [Path]), CONVERT(varbinary(max), [Spot]), " +
        "CONVERT(nvarchar(4000), [Extra]), [Label], [Body], CONVERT(varchar(30), [Amount], 2), CONVERT(varchar(50), [Big]) FROM [dbo].[Attachments]",
    );
  });

  it("splits INSERTs at 1000 rows per statement", async () => {
    const catalog = await loadCatalog();
    const plan = planScript({ ...catalog, tables: catalog.tables.filter((table) => table.name === "AuditLog") });
    let text = "";
    await writeScript(
      plan,
      { database: "shop", productVersion: "x", consistency: "x" },
      async function* () {
        for (let id = 1; id <= 2500; id++) yield [id, `message ${id}`, "2024-01-01 00:00:00.000", null];
      },
      async (chunk) => {
        text += chunk;
      },
    );
    const inserts = text.split("\nGO\n").filter((batch) => batch.includes("INSERT INTO [sales].[AuditLog]"));
    expect(inserts.map((batch) => batch.split("\n").length - 1)).toEqual([1000, 1000, 500]);
    expect(text).toContain("DBCC CHECKIDENT (N'[sales].[AuditLog]', RESEED, 7) WITH NO_INFOMSGS;");
  });
});

describe("SQL Server load: dropping the target's objects", () => {
  it("drops foreign keys, then modules newest first, then tables, then types", async () => {
    const catalog = await loadCatalog();
    expect(scriptDropAll({ ...catalog, types: catalog.types.filter((type) => !type.is_table_type) })).toEqual([
      "ALTER TABLE [sales].[Orders] DROP CONSTRAINT [FK_Orders_Customers];",
      "ALTER TABLE [sales].[AuditLog] DROP CONSTRAINT [FK_AuditLog_Orders];",
      "DROP PROCEDURE [dbo].[usp_Secret];",
      "DROP PROCEDURE [sales].[usp_AddOrder];",
      "DROP VIEW [sales].[vw_CustomerTotals];",
      "DROP FUNCTION [dbo].[fn_OrderTotal];",
      "DROP TABLE [dbo].[Attachments];",
      "DROP TABLE [sales].[AuditLog];",
      "DROP TABLE [sales].[Customers];",
      "DROP TABLE [sales].[Orders];",
      "DROP TYPE [dbo].[Phone];",
    ]);
  });
});

describe("GO batch splitting", () => {
  const script = "-- header\nSELECT 1;\nGO\nSELECT 'x'\r\ngo 3\r\n  GO  -- empty batch\nCREATE VIEW v AS SELECT 1 AS [GO]\nGO\n-- Dump completed: 0 tables\n";

  it("splits at GO lines like sqlcmd, whatever the chunk size", () => {
    for (const size of [1, 2, 3, 7, script.length]) {
      const splitter = new GoBatchSplitter();
      const batches = [];
      for (let index = 0; index < script.length; index += size) batches.push(...splitter.push(script.slice(index, index + size)));
      const ending = splitter.end();
      batches.push(...ending.batches);
      expect(batches, `chunk size ${size}`).toEqual([
        { text: "-- header\nSELECT 1;", line: 1, repeat: 1, terminated: true },
        { text: "SELECT 'x'", line: 4, repeat: 3, terminated: true },
        { text: "CREATE VIEW v AS SELECT 1 AS [GO]", line: 7, repeat: 1, terminated: true },
      ]);
      expect(ending.trailingText).toContain("-- Dump completed: 0 tables");
    }
  });

  it("reports text after the last GO as an unterminated batch (a cut file)", () => {
    const splitter = new GoBatchSplitter();
    splitter.push("SELECT 1;\nGO\nINSERT INTO t VALUES\n(1, N'abc");
    const ending = splitter.end();
    expect(ending.batches).toEqual([{ text: "INSERT INTO t VALUES\n(1, N'abc", line: 3, repeat: 1, terminated: false }]);
    expect(ending.trailingText).not.toContain("-- Dump completed:");
  });
});
