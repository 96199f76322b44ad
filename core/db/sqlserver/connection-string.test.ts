import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseSqlServerConnectionString, sqlServerEngine } from "./index.js";
import { AppBackupError } from "../../errors.js";
import { freePort } from "../../../test/support/ports.js";

describe("SQL Server connection strings", () => {
  it("parses Azure's ADO.NET form", () => {
    expect(
      parseSqlServerConnectionString(
        "Server=tcp:shop.database.windows.net,1433;Initial Catalog=shopdb;Persist Security Info=False;User ID=admin@shop;Password=p@ss=w0rd;MultipleActiveResultSets=False;Encrypt=True;TrustServerCertificate=False;Connection Timeout=30;",
      ),
    ).toEqual({
      server: "shop.database.windows.net",
      port: 1433,
      instanceName: undefined,
      database: "shopdb",
      user: "admin@shop",
      password: "p@ss=w0rd",
      encrypt: true,
      trustServerCertificate: false,
      connectTimeoutSeconds: 30,
    });
  });

  it("reads quoted passwords, synonyms, named instances and defaults", () => {
    expect(parseSqlServerConnectionString("Data Source=db01\\SQLEXPRESS;Database=app;UID=sa;PWD='a;b''c';Encrypt=no;Trust Server Certificate=yes")).toEqual({
      server: "db01",
      port: undefined,
      instanceName: "SQLEXPRESS",
      database: "app",
      user: "sa",
      password: "a;b'c",
      encrypt: false,
      trustServerCertificate: true,
      connectTimeoutSeconds: 30,
    });
    expect(parseSqlServerConnectionString("Server=localhost,1444;Database=x;User Id=u;Password=p;Encrypt=Strict")).toMatchObject({ server: "localhost", port: 1444, encrypt: "strict" });
    expect(parseSqlServerConnectionString("Server=db;Database=x;User Id=u;Password=p")).toMatchObject({ port: 1433, encrypt: true, trustServerCertificate: false });
  });

  it("parses mssql:// URLs", () => {
    expect(parseSqlServerConnectionString("mssql://app:s%3Bcr%40t@db.example.com:1435/shop?encrypt=false&trustServerCertificate=true")).toEqual({
      server: "db.example.com",
      port: 1435,
      instanceName: undefined,
      database: "shop",
      user: "app",
      password: "s;cr@t",
      encrypt: false,
      trustServerCertificate: true,
      connectTimeoutSeconds: 30,
    });
  });

  it.each([
    ["Server=db;User ID=u;Password=topsecret", /names no database/],
    ["Initial Catalog=x;User ID=u;Password=topsecret", /names no server/],
    ["Server=db;Database=x;Integrated Security=SSPI;Password=topsecret", /Windows authentication/],
    ["Server=db;Database=x;Authentication=Active Directory Interactive;Password=topsecret", /Authentication "Active Directory Interactive" is not supported/],
    ["Server=np:\\\\.\\pipe\\sql\\query;Database=x;Password=topsecret", /named pipes/],
    ["Server=db;Database=x;Encrypt=maybe;Password=topsecret", /Encrypt value "maybe"/],
    ["mssql://u:topsecret@db", /names no database/],
  ])("rejects %j clearly without showing the password", (text, message) => {
    let caught: unknown;
    try {
      parseSqlServerConnectionString(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppBackupError);
    expect((caught as AppBackupError).code).toBe("DATABASE");
    expect((caught as AppBackupError).message).toMatch(message);
    expect((caught as AppBackupError).describe()).not.toContain("topsecret");
  });

  it("describes server and database without credentials", () => {
    expect(sqlServerEngine.describe("Server=tcp:shop.database.windows.net,1433;Initial Catalog=shopdb;User ID=a;Password=topsecret")).toBe(
      'SQL Server shop.database.windows.net,1433, database "shopdb"',
    );
  });
});

describe("SQL Server connection errors", () => {
  const password = "Sup3r;Secret'Pass";

  it.each([
    ["dump", (connection: string) => sqlServerEngine.dump(connection, new PassThrough())],
    ["restore", (connection: string) => sqlServerEngine.load(connection, Readable.from(["-- Dump completed:\n"]))],
  ])("%s: a closed port on 127.0.0.1 gives a clear DATABASE error without the password", async (action, run) => {
    const port = await freePort();
    const error = await run(`Server=tcp:127.0.0.1,${port};Initial Catalog=shop;User ID=sa;Password="${password}";Encrypt=True;TrustServerCertificate=True;Connect Timeout=10`).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AppBackupError);
    const appError = error as AppBackupError;
    expect(appError.code).toBe("DATABASE");
    expect(appError.message).toBe(`Cannot ${action === "dump" ? "dump" : "restore"} the database on SQL Server 127.0.0.1,${port}, database "shop": the connection was refused.`);
    expect(appError.hint).toMatch(/server name and port/);
    expect([appError.describe(), String(appError.cause)].join("\n")).not.toContain(password);
  });
});
