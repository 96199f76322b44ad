import { Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlEngine } from "../../core/db/mysql/index.js";
import { AppBackupError } from "../../core/errors.js";
import { freePort } from "../support/ports.js";
import { rows, startMariaDbServer, type MariaDbServer } from "../support/mariadb.js";

let server: MariaDbServer;

function sink(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** Runs an operation that must fail; returns its error after checking it is a DATABASE error without the password. */
async function failure(operation: Promise<unknown>, password = server.password): Promise<AppBackupError> {
  const error = await operation.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppBackupError);
  const appError = error as AppBackupError;
  expect(appError.code).toBe("DATABASE");
  const everything = [appError.describe(), String(appError.cause), String((appError.cause as Error | undefined)?.cause)].join("\n");
  expect(everything).not.toContain(password);
  return appError;
}

beforeAll(async () => {
  server = await startMariaDbServer({ tls: true });
  await server.sql("CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO shop.items VALUES (1, 'one'), (2, 'two');");
});

afterAll(async () => {
  await server?.stop();
});

const base = () => `Server=127.0.0.1;Port=${server.port};Database=shop;Uid=${server.user};Pwd="${server.password}"`;

describe("MySQL TLS", () => {
  it("SslMode=Required connects to a TLS-only server (encrypted, certificate not checked)", async () => {
    const { out, text } = sink();
    const summary = await mysqlEngine.dump(`${base()};SslMode=Required`, out);
    expect(summary.tables).toEqual([{ name: "shop.items", rows: 2 }]);
    expect(text()).toContain("INSERT INTO `items` (`id`,`name`) VALUES (1,'one'),(2,'two');");
  });

  it("the default mode (Preferred) uses TLS when the server offers it", async () => {
    const summary = await mysqlEngine.dump(base(), sink().out);
    expect(summary.tables).toEqual([{ name: "shop.items", rows: 2 }]);
  });

  it("VerifyCA with the right CA works; VerifyFull checks the name too (URL form)", async () => {
    const summary = await mysqlEngine.dump(`${base()};SslMode=VerifyCA;SslCa=${server.caFile}`, sink().out);
    expect(summary.tables).toEqual([{ name: "shop.items", rows: 2 }]);
    const url = `mysql://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(server.caFile!)}`;
    const viaUrl = await mysqlEngine.dump(url, sink().out);
    expect(viaUrl.tables).toEqual([{ name: "shop.items", rows: 2 }]);
  });

  it("VerifyCA with a CA that did not sign the server certificate fails and says so", async () => {
    const error = await failure(mysqlEngine.dump(`${base()};SslMode=VerifyCA;SslCa=${server.wrongCaFile}`, sink().out));
    expect(error.message).toMatch(/TLS certificate was not accepted/);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(error.hint).toContain(server.wrongCaFile);
  });

  it("VerifyCA without SslCa checks against the system CAs, which do not know a self-signed CA", async () => {
    const error = await failure(mysqlEngine.dump(`${base()};SslMode=VerifyCA`, sink().out));
    expect(error.message).toMatch(/TLS certificate was not accepted/);
    expect(error.hint).toMatch(/Set SslCa/);
  });

  it("an unreadable SslCa file is named", async () => {
    const error = await failure(mysqlEngine.dump(`${base()};SslMode=VerifyCA;SslCa=/nonexistent/ca.pem`, sink().out));
    expect(error.message).toContain("/nonexistent/ca.pem");
  });

  it("SslMode=None against a TLS-only server is refused, and the hint points at SslMode", async () => {
    // MariaDB refuses with "access denied" rather than a TLS-specific error.
    const error = await failure(mysqlEngine.dump(`${base()};SslMode=None`, sink().out));
    expect(error.message).toMatch(/access denied for user "app"/);
    expect(error.hint).toMatch(/try SslMode=Required/);
  });
});

describe("MySQL connection errors", () => {
  it("a wrong password: access denied, password not shown", async () => {
    const wrong = "Wrong;Pass'word123";
    const error = await failure(
      mysqlEngine.dump(`Server=127.0.0.1;Port=${server.port};Database=shop;Uid=${server.user};Pwd="${wrong}";SslMode=Required`, sink().out),
      wrong,
    );
    expect(error.message).toBe(`Cannot dump the database on MySQL/MariaDB server 127.0.0.1:${server.port}, database "shop": access denied for user "app".`);
    expect(error.hint).toMatch(/user name and password/);
  });

  it("an unknown database, for dump and load", async () => {
    const connection = `Server=127.0.0.1;Port=${server.port};Database=nope;Uid=${server.user};Pwd="${server.password}";SslMode=Required`;
    const dumpError = await failure(mysqlEngine.dump(connection, sink().out));
    expect(dumpError.message).toMatch(/database "nope" does not exist/);
    const loadError = await failure(mysqlEngine.load(connection, Readable.from(["-- Dump completed:\n"])));
    expect(loadError.message).toMatch(/database "nope" does not exist/);
  });

  it("an unreachable host (closed port): connection refused", async () => {
    const port = await freePort();
    const error = await failure(mysqlEngine.dump(`Server=127.0.0.1;Port=${port};Database=shop;Uid=app;Pwd="${server.password}"`, sink().out));
    expect(error.message).toBe(`Cannot dump the database on MySQL/MariaDB server 127.0.0.1:${port}, database "shop": the connection was refused.`);
  });

  it("a load by an account that may not create the scratch database fails before touching the target", async () => {
    await server.sql("CREATE USER 'limited'@'%' IDENTIFIED BY 'Limited-Pass-42'; GRANT ALL PRIVILEGES ON shop.* TO 'limited'@'%';");
    const { out, text } = sink();
    await mysqlEngine.dump(`${base()};SslMode=Required`, out);
    await server.sql("INSERT INTO shop.items VALUES (3, 'three')");
    const error = await failure(
      mysqlEngine.load(`Server=127.0.0.1;Port=${server.port};Database=shop;Uid=limited;Pwd=Limited-Pass-42;SslMode=Required`, Readable.from([text()])),
      "Limited-Pass-42",
    );
    expect(error.message).toMatch(/may not create the scratch database.*The target database is unchanged\.$/);
    expect(error.message).not.toMatch(/could not be dropped/);
    expect(error.hint).toContain("GRANT ALL PRIVILEGES ON `ab\\_restore\\_%`.* TO 'limited'@'%'");
    expect(await rows(server, "shop", "SELECT COUNT(*) FROM items")).toEqual(["3"]);

    await server.sql("GRANT ALL PRIVILEGES ON `ab\\_restore\\_%`.* TO 'limited'@'%';");
    await mysqlEngine.load(`Server=127.0.0.1;Port=${server.port};Database=shop;Uid=limited;Pwd=Limited-Pass-42;SslMode=Required`, Readable.from([text()]));
    expect(await rows(server, "shop", "SELECT id, name FROM items ORDER BY id")).toEqual(["1\tone", "2\ttwo"]);
  });
});
