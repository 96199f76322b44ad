import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { postgresEngine } from "../../core/db/postgres/index.js";
import type { DumpSummary } from "../../core/db/types.js";
import { contentChecksums, freshDatabase, schemaDump, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";
import { RICH_SCHEMA_STEPS } from "../support/postgres-rich-schema.js";

let server: PostgresTestServer;
let folder: string;
let source: string;
let dumpFile: string;
let summary: DumpSummary;
let sourceSchema: string;
let sourceContent: Record<string, string>;

beforeAll(async () => {
  server = await startPostgres();
  folder = await mkdtemp(join(tmpdir(), "app-backup-pg-roundtrip-"));
  source = await freshDatabase(server, "rich");
  for (const step of RICH_SCHEMA_STEPS) await sql(server, source, step);
  dumpFile = join(folder, "source.sql");
  summary = await postgresEngine.dump(server.connectionString(source), createWriteStream(dumpFile));
  sourceSchema = await schemaDump(server, source);
  sourceContent = await contentChecksums(server, source);
});

afterAll(async () => {
  await server?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("PostgreSQL dump and load round trip", () => {
  test("the summary names the server, the database, the consistency and each table's row count", () => {
    expect(summary.engine).toBe("postgresql");
    expect(summary.database).toBe(source);
    expect(summary.serverVersion).toMatch(/^\d+\.\d+/);
    expect(summary.consistency).toBe("REPEATABLE READ READ ONLY transaction");
    const rows = Object.fromEntries(summary.tables.map((t) => [t.name, t.rows]));
    expect(rows["shop.customers"]).toBe(3);
    expect(rows["shop.orders"]).toBe(2000);
    expect(rows["shop.events_2024"]! + rows["shop.events_2025_even"]! + rows["shop.events_2025_odd"]! + rows["shop.events_default"]!).toBe(700);
    expect(rows["shop.events"]).toBeUndefined();
    expect(rows["shop.notes"]).toBe(1);
    expect(rows["shop.urgent_notes"]).toBe(1);
    expect(rows["public.types_zoo"]).toBe(7);
    expect(rows["public.no_columns"]).toBe(2);
    expect(rows["Odd Schema.Mixed Case"]).toBe(1);
    expect(summary.notCovered).toEqual([]);
  });

  test("the dump is plain SQL with COPY blocks and ends with its closing line", async () => {
    const text = await readFile(dumpFile, "utf8");
    expect(text.startsWith("-- app-backup PostgreSQL dump\n")).toBe(true);
    expect(text).toMatch(/^COPY shop\.orders \(id, customer_id, invoice, quantity, amount, created_at, note\) FROM stdin;$/m);
    expect(text).toMatch(/^\\\.$/m);
    expect(text.trimEnd().endsWith("-- app-backup PostgreSQL dump complete")).toBe(true);
    // Foreign keys come after the data, so rows load in any order.
    expect(text.indexOf("FOREIGN KEY")).toBeGreaterThan(text.indexOf("COPY shop.orders"));
  });

  test("loading into a fresh database gives the same schema (pg_dump --schema-only) and the same data", async () => {
    const target = await freshDatabase(server, "loaded");
    const result = await postgresEngine.load(server.connectionString(target), createReadStream(dumpFile));
    expect(result.database).toBe(target);
    expect(result.tables).toBe(summary.tables.length);
    expect(await schemaDump(server, target)).toBe(sourceSchema);
    expect(await contentChecksums(server, target)).toEqual(sourceContent);
  });

  test("psql restores the same dump in one transaction to the same schema and data", async () => {
    const target = await freshDatabase(server, "psql");
    await server.tool("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", dumpFile, "-d", target]);
    expect(await schemaDump(server, target)).toBe(sourceSchema);
    expect(await contentChecksums(server, target)).toEqual(sourceContent);
  });

  test("edge values survive exactly: NULL vs empty, Unicode, bytea, numeric specials, time zones, arrays", async () => {
    const target = await freshDatabase(server, "values");
    await postgresEngine.load(server.connectionString(target), createReadStream(dumpFile));
    const query = `SELECT id, t IS NULL AS t_null, t = '' AS t_empty, md5(t) AS t_md5, md5(by) AS by_md5, length(by) AS by_len,
      n::text AS n, n2::text AS n2, f4::text AS f4, f8::text AS f8, tstz = '2024-03-31 02:30:00 Europe/Paris' AS dst,
      tstz::text AS tstz, ts::text AS ts, d::text AS d, iv::text AS iv, money::text AS money, jb::text AS jb, j::text AS j,
      ta::text AS ta, ma::text AS ma, bt::text AS bt, vb::text AS vb, ip::text AS ip, x::text AS x, hs::text AS hs, addr::text AS addr
      FROM public.types_zoo ORDER BY id`;
    const expected = await sql(server, source, query);
    const actual = await sql(server, target, query);
    expect(actual).toEqual(expected);
    expect(actual[0]!.t_null).toBe(true);
    expect(actual[1]!.t_empty).toBe(true);
    expect(actual[2]!.n).toBe("NaN");
    expect(actual[2]!.f4).toBe("Infinity");
    expect(actual[3]!.n).toBe("-Infinity");
    expect(actual[6]!.by_len).toBe(1_600_000);
    const zoe = await sql(server, target, "SELECT name, slug FROM shop.customers WHERE email = 'ZOË@example.com'");
    expect(zoe).toEqual([{ name: "Zoë 😀 Ünïcode", slug: "zo-n-code" }]);
  });

  test("sequences continue where they were and identity columns stay GENERATED ALWAYS", async () => {
    const target = await freshDatabase(server, "sequences");
    await postgresEngine.load(server.connectionString(target), createReadStream(dumpFile));
    const state = "SELECT last_value::text || '/' || is_called AS invoice FROM shop.invoice_no";
    expect(await sql(server, target, state)).toEqual(await sql(server, source, state));
    // The source's invoice_no stood at 11005 (increment 5), orders_id_seq at 2000.
    expect(await sql(server, target, "SELECT nextval('shop.invoice_no')::int AS invoice, nextval('shop.orders_id_seq')::int AS order_id"))
      .toEqual([{ invoice: 11010, order_id: 2001 }]);
    const inserted = await sql(server, target, "INSERT INTO shop.customers (email, name) VALUES ('new@example.com', 'New') RETURNING id");
    expect(inserted[0]!.id).toBe("13");
    await expect(sql(server, target, "INSERT INTO shop.customers (id, email, name) VALUES (99, 'x@example.com', 'X')")).rejects.toThrow(/cannot insert a non-DEFAULT value into column "id"/);
  });

  test("loading replaces whatever the target held before", async () => {
    const target = await freshDatabase(server, "replace");
    await sql(server, target, `
      CREATE SCHEMA shop; CREATE TABLE shop.customers (id int); CREATE TABLE public.leftover (x int);
      CREATE TYPE public.old_enum AS ENUM ('x'); CREATE FUNCTION public.old_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
      CREATE SCHEMA stale; CREATE VIEW stale.v AS SELECT 1 AS one; CREATE EXTENSION pg_trgm;`);
    await postgresEngine.load(server.connectionString(target), createReadStream(dumpFile));
    expect(await schemaDump(server, target)).toBe(sourceSchema);
    expect(await contentChecksums(server, target)).toEqual(sourceContent);
  });

  test("a plain-format pg_dump file loads too", async () => {
    const pgDumpFile = join(folder, "pg_dump.sql");
    await server.tool("pg_dump", ["-Fp", "-f", pgDumpFile, "-d", source]);
    const target = await freshDatabase(server, "from_pg_dump");
    await postgresEngine.load(server.connectionString(target), createReadStream(pgDumpFile));
    expect(await schemaDump(server, target)).toBe(sourceSchema);
    expect(await contentChecksums(server, target)).toEqual(sourceContent);
  });

  describe("a load that fails midway leaves the target exactly as it was", () => {
    const failingLoads: Array<[string, (dump: string) => string, RegExp]> = [
      ["a corrupted COPY row", (dump) => dump.replace(/^(COPY shop\.orders [^\n]*\n)\d+/m, "$1not-a-number"), /invalid input syntax for type integer/],
      ["a dump cut inside the COPY data", (dump) => dump.slice(0, dump.indexOf("COPY shop.orders") + 5000), /truncated/],
      ["a dump cut at a statement boundary", (dump) => dump.slice(0, dump.indexOf("\n", dump.indexOf("ADD CONSTRAINT")) + 1), /incomplete/],
      ["a dump cut inside a function body", (dump) => dump.slice(0, dump.indexOf("AS $function$") + 20), /truncated/],
      ["a statement that fails late", (dump) => dump.replace(/(REFRESH MATERIALIZED VIEW shop\.sales_summary;)/, "$1\nSELECT 1/0;"), /division by zero/],
    ];

    test.each(failingLoads)("%s", async (_name, corrupt, expected) => {
      const target = await freshDatabase(server, "atomic");
      await postgresEngine.load(server.connectionString(target), createReadStream(dumpFile));
      await sql(server, target, "INSERT INTO shop.categories VALUES (42, 1, 'added after the first load')");
      const before = { schema: await schemaDump(server, target), content: await contentChecksums(server, target) };

      const corrupted = join(folder, "corrupted.sql");
      await writeFile(corrupted, corrupt(await readFile(dumpFile, "utf8")));
      const failure = await postgresEngine.load(server.connectionString(target), createReadStream(corrupted)).then(() => undefined, (e: unknown) => e);
      expect(failure).toBeInstanceOf(AppBackupError);
      expect((failure as AppBackupError).code).toBe("DATABASE");
      expect((failure as AppBackupError).message).toMatch(expected);
      expect((failure as AppBackupError).message).toMatch(/Nothing was changed/);
      expect((failure as AppBackupError).message).not.toContain(server.password);

      expect(await schemaDump(server, target)).toBe(before.schema);
      expect(await contentChecksums(server, target)).toEqual(before.content);
    });
  });

  test("a dump from a Readable of small string chunks loads the same (statement and COPY splitting across chunks)", async () => {
    const text = await readFile(dumpFile, "utf8");
    const zoo = text.indexOf("COPY public.types_zoo");
    const bigRow = text.indexOf("\n7\t", zoo) + 1;
    const withoutBigRow = text.slice(0, bigRow) + text.slice(text.indexOf("\n", bigRow) + 1);
    const chunks = (function* () {
      for (let i = 0; i < withoutBigRow.length; i += 7) yield withoutBigRow.slice(i, i + 7);
    })();
    const target = await freshDatabase(server, "chunks");
    await postgresEngine.load(server.connectionString(target), Readable.from(chunks));
    expect(await schemaDump(server, target)).toBe(sourceSchema);
    const content = await contentChecksums(server, target);
    expect(content["shop.orders"]).toBe(sourceContent["shop.orders"]);
    expect(content["public.types_zoo"]).not.toBe(sourceContent["public.types_zoo"]);
    expect((await sql(server, target, "SELECT count(*)::int AS n FROM public.types_zoo"))[0]!.n).toBe(6);
  });
});
