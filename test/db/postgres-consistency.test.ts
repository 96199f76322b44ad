import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { postgresEngine } from "../../core/db/postgres/index.js";
import { freshDatabase, sql, startPostgres, type PostgresTestServer } from "../support/postgres.js";

let server: PostgresTestServer;
let folder: string;

beforeAll(async () => {
  server = await startPostgres();
  folder = await mkdtemp(join(tmpdir(), "app-backup-pg-consistency-"));
});

afterAll(async () => {
  await server?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** A file sink that can run an async step before accepting a chunk (while the dump waits on it). */
function gatedFile(path: string, beforeChunk: (chunk: Buffer, index: number) => Promise<void>): Writable {
  const file = createWriteStream(path);
  let index = 0;
  return new Writable({
    // Every write reports a full buffer, so the dump waits for each chunk to be accepted.
    highWaterMark: 0,
    write(chunk: Buffer, _encoding, callback) {
      beforeChunk(chunk, index++).then(
        () => (file.write(chunk) ? callback() : file.once("drain", () => callback())),
        callback,
      );
    },
    final(callback) {
      file.end(callback);
    },
  });
}

async function seedPairs(database: string, rows: number): Promise<void> {
  await sql(server, database, `
    CREATE TABLE pair_a (id integer PRIMARY KEY, payload text);
    CREATE TABLE pair_b (id integer PRIMARY KEY, payload text);
    CREATE TABLE marker (note text);
    INSERT INTO pair_a SELECT g, repeat('a', 100) FROM generate_series(1, ${rows}) g;
    INSERT INTO pair_b SELECT g, repeat('b', 100) FROM generate_series(1, ${rows}) g;`);
}

async function dumpBackendPid(database: string): Promise<number> {
  const rows = await server.adminQuery(`SELECT pid FROM pg_stat_activity WHERE datname = '${database}' AND application_name = 'app-backup dump'`);
  expect(rows.rows).toHaveLength(1);
  return rows.rows[0].pid as number;
}

describe("PostgreSQL dump consistency", () => {
  test("writes committed after the dump started are absent, and tables written together stay in sync", async () => {
    const database = await freshDatabase(server, "consistent");
    await seedPairs(database, 20_000);
    const writer = await server.client(database);
    let nextId = 1_000_000;
    const insertPair = async () => {
      const id = nextId++;
      await writer.query("BEGIN");
      await writer.query(`INSERT INTO pair_a VALUES (${id}, 'late')`);
      await writer.query(`INSERT INTO pair_b VALUES (${id}, 'late')`);
      await writer.query("COMMIT");
    };
    let stopBackground = false;
    const background = (async () => {
      const other = await server.client(database);
      try {
        for (let id = 2_000_000; !stopBackground; id++) {
          await other.query(`WITH a AS (INSERT INTO pair_a VALUES (${id}, 'bg')) INSERT INTO pair_b VALUES (${id}, 'bg')`);
        }
      } finally {
        await other.end();
      }
    })();

    const file = join(folder, "consistent.sql");
    const summary = await postgresEngine.dump(server.connectionString(database), gatedFile(file, async (chunk, index) => {
      // The header is written once the snapshot is taken: this commit comes after it.
      if (index === 0) await writer.query("INSERT INTO marker VALUES ('committed after the dump started')");
      // Between the copy of pair_a and the copy of pair_b, a transaction writes both.
      if (chunk.includes("COPY public.pair_b")) await insertPair();
    }));
    stopBackground = true;
    await background;
    await writer.end();
    expect(summary.consistency).toBe("REPEATABLE READ READ ONLY transaction");

    const live = await sql(server, database, "SELECT (SELECT count(*) FROM marker)::int AS markers, (SELECT count(*) FROM pair_a WHERE payload = 'late')::int AS late");
    expect(live).toEqual([{ markers: 1, late: 1 }]);

    const restored = await freshDatabase(server, "restored");
    await postgresEngine.load(server.connectionString(restored), createReadStream(file));
    const [check] = await sql(server, restored, `SELECT
      (SELECT count(*) FROM marker)::int AS markers,
      (SELECT count(*) FROM pair_a WHERE payload = 'late')::int AS late_a,
      (SELECT count(*) FROM pair_b WHERE payload = 'late')::int AS late_b,
      (SELECT count(*) FROM (SELECT id FROM pair_a EXCEPT SELECT id FROM pair_b) x)::int AS only_a,
      (SELECT count(*) FROM (SELECT id FROM pair_b EXCEPT SELECT id FROM pair_a) x)::int AS only_b,
      (SELECT count(*) FROM pair_a)::int AS rows_a`);
    expect(check).toEqual({ markers: 0, late_a: 0, late_b: 0, only_a: 0, only_b: 0, rows_a: check!.rows_a });
    const counted = Object.fromEntries(summary.tables.map((t) => [t.name, t.rows]));
    expect(counted["public.pair_a"]).toBe(check!.rows_a);
    expect(counted["public.pair_b"]).toBe(check!.rows_a);
  });

  test("a slow output holds the dump back instead of buffering the table in memory", async () => {
    const database = await freshDatabase(server, "backpressure");
    await seedPairs(database, 60_000);
    let largestBacklog = 0;
    let bytes = 0;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        // Everything written but not yet consumed, this chunk included.
        largestBacklog = Math.max(largestBacklog, this.writableLength);
        bytes += chunk.length;
        setTimeout(callback, 1);
      },
    });
    await postgresEngine.dump(server.connectionString(database), slow);
    expect(bytes).toBeGreaterThan(12_000_000);
    // One COPY chunk (a socket read) beyond the high-water mark at most, never the table.
    expect(largestBacklog).toBeLessThan(1_000_000);
  });

  test("a connection terminated mid-dump rejects the dump with a clear error and leaves the output unfinished", async () => {
    const database = await freshDatabase(server, "terminated");
    await seedPairs(database, 5_000);
    let terminated = false;
    const out = gatedFile(join(folder, "terminated.sql"), async (chunk) => {
      if (!terminated && chunk.includes("COPY public.pair_a")) {
        terminated = true;
        const pid = await dumpBackendPid(database);
        await server.adminQuery(`SELECT pg_terminate_backend(${pid}, 10000)`);
      }
    });
    const failure = await postgresEngine.dump(server.connectionString(database), out).then(() => undefined, (e: unknown) => e);
    expect(terminated).toBe(true);
    expect(failure).toBeInstanceOf(AppBackupError);
    expect((failure as AppBackupError).code).toBe("DATABASE");
    expect((failure as AppBackupError).message).toMatch(/connection was lost/);
    expect((failure as AppBackupError).message).toContain(database);
    expect(inspect(failure, { depth: 10 })).not.toContain(server.password);
    expect(out.writableEnded).toBe(false);
  });

  test("aborting the signal stops the dump with the abort reason", async () => {
    const database = await freshDatabase(server, "aborted");
    await seedPairs(database, 5_000);
    const controller = new AbortController();
    const out = gatedFile(join(folder, "aborted.sql"), async (chunk) => {
      if (chunk.includes("COPY public.pair_b")) controller.abort(new Error("stopped by the user"));
    });
    await expect(postgresEngine.dump(server.connectionString(database), out, { signal: controller.signal })).rejects.toThrow("stopped by the user");
    expect(out.writableEnded).toBe(false);
  });
});
