import { Readable, Writable } from "node:stream";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { postgresEngine } from "../../core/db/postgres/index.js";
import { freePort } from "../support/ports.js";
import { startPostgres, TEST_USER, type PostgresTestServer } from "../support/postgres.js";

/** A TLS-only server (`hostssl`), as Azure Database for PostgreSQL is by default. */
let server: PostgresTestServer;
let database: string;

beforeAll(async () => {
  server = await startPostgres({ tls: true });
  database = await server.createDatabase("tls_db");
  const client = await server.client(database);
  await client.query("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  await client.end();
});

afterAll(async () => {
  await server?.stop();
});

const discard = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

function keywords(values: Record<string, string | number>): string {
  return Object.entries(values).map(([key, value]) => `${key}='${String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`).join(" ");
}

async function dumpError(connectionString: string): Promise<AppBackupError> {
  const failure = await postgresEngine.dump(connectionString, discard()).then(() => undefined, (e: unknown) => e);
  expect(failure).toBeInstanceOf(AppBackupError);
  const error = failure as AppBackupError;
  expect(error.code).toBe("DATABASE");
  // The password never shows: not in the message, the hint, the stack or the cause chain.
  for (const text of [error.message, error.hint ?? "", error.stack ?? "", inspect(error, { depth: 10 })]) {
    expect(text).not.toContain(server.password);
  }
  return error;
}

describe("PostgreSQL connections and TLS", () => {
  test("sslmode=require encrypts without checking the certificate (URL form)", async () => {
    const summary = await postgresEngine.dump(server.connectionString(database, { sslmode: "require" }), discard());
    expect(summary.tables).toEqual([{ name: "public.t", rows: 2 }]);
  });

  test("sslmode=require in the ADO.NET form Azure shows", async () => {
    const ado = `Server=127.0.0.1;Port=${server.port};Database=${database};User Id=${TEST_USER};Password=${server.password};SSL Mode=Require;Trust Server Certificate=true`;
    const summary = await postgresEngine.dump(ado, discard());
    expect(summary.database).toBe(database);
  });

  test("verify-full with the right CA and the certificate's host name works (libpq keyword form with hostaddr)", async () => {
    const connection = keywords({
      host: server.tls!.hostName, hostaddr: "127.0.0.1", port: server.port, dbname: database, user: TEST_USER,
      password: server.password, sslmode: "verify-full", sslrootcert: server.tls!.caFile,
    });
    const summary = await postgresEngine.dump(connection, discard());
    expect(summary.tables[0]!.rows).toBe(2);
  });

  test("verify-ca checks the CA but not the host name", async () => {
    const summary = await postgresEngine.dump(server.connectionString(database, { sslmode: "verify-ca", sslrootcert: server.tls!.caFile }), discard());
    expect(summary.tables[0]!.rows).toBe(2);
  });

  test("verify-full with a CA that did not sign the server certificate fails with a clear TLS error", async () => {
    const error = await dumpError(keywords({
      host: server.tls!.hostName, hostaddr: "127.0.0.1", port: server.port, dbname: database, user: TEST_USER,
      password: server.password, sslmode: "verify-full", sslrootcert: server.tls!.wrongCaFile,
    }));
    expect(error.message).toMatch(/TLS failed: the server's certificate is not signed by a trusted CA/);
    expect(error.message).toContain(`${server.tls!.hostName}:${server.port}`);
    expect(error.hint).toContain(server.tls!.wrongCaFile);
  });

  test("verify-full against a host name the certificate does not name fails with a clear TLS error", async () => {
    const error = await dumpError(server.connectionString(database, { sslmode: "verify-full", sslrootcert: server.tls!.caFile }));
    expect(error.message).toMatch(/TLS failed: the server's certificate is not valid for the host name "127\.0\.0\.1"/);
    expect(error.hint).toMatch(/verify-ca/);
  });

  test("sslmode=disable against a TLS-only server says to turn TLS on", async () => {
    const error = await dumpError(server.connectionString(database, { sslmode: "disable" }));
    expect(error.message).toMatch(/refused an unencrypted connection/);
    expect(error.hint).toMatch(/sslmode=require/);
  });

  test("the default (prefer) uses TLS when the server offers it", async () => {
    const summary = await postgresEngine.dump(server.connectionString(database), discard());
    expect(summary.tables[0]!.rows).toBe(2);
  });

  test("a wrong password names the user and the server, never the password", async () => {
    const wrong = server.connectionString(database, { sslmode: "require" }).replace(server.password, `${server.password}-wrong`);
    const error = await dumpError(wrong);
    expect(error.message).toMatch(new RegExp(`password authentication failed for user "${TEST_USER}"`));
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(error.message).not.toContain(`${server.password}-wrong`);
    expect(error.hint).toMatch(/user name and password/);
  });

  test("an unknown database says it does not exist", async () => {
    const error = await dumpError(server.connectionString("no_such_db", { sslmode: "require" }));
    expect(error.message).toMatch(/database "no_such_db"/);
    expect(error.message).toMatch(/does not exist/);
  });

  test("an unreachable server says the connection was refused", async () => {
    const port = await freePort();
    const error = await dumpError(`postgres://${TEST_USER}:${server.password}@127.0.0.1:${port}/${database}?sslmode=require`);
    expect(error.message).toMatch(/connection was refused/);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.hint).toMatch(/host and port/);
  });

  test("an unresolvable host name says so", async () => {
    const error = await dumpError(`postgres://${TEST_USER}:${server.password}@no-such-host.invalid:5432/${database}`);
    expect(error.message).toMatch(/"no-such-host\.invalid" does not resolve/);
  });

  test("load reports connection failures the same way", async () => {
    const wrong = server.connectionString(database, { sslmode: "require" }).replace(server.password, "not-the-password");
    const failure = await postgresEngine.load(wrong, Readable.from(["-- app-backup PostgreSQL dump\n"])).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(AppBackupError);
    expect((failure as AppBackupError).message).toMatch(/password authentication failed/);
    expect(inspect(failure, { depth: 10 })).not.toContain("not-the-password");
  });

  test("describe names host, port and database without credentials", () => {
    const text = postgresEngine.describe(server.connectionString(database, { sslmode: "require" }));
    expect(text).toBe(`PostgreSQL server 127.0.0.1:${server.port}, database "${database}"`);
    expect(text).not.toContain(server.password);
  });
});
