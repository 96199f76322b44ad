import { describe, expect, it } from "vitest";
import { AppBackupError } from "../../errors.js";
import { mysqlEngine, parseMysqlConnectionString } from "./index.js";

describe("MySQL connection strings", () => {
  it("parses an ADO.NET string with the usual key spellings", () => {
    expect(parseMysqlConnectionString("Server=db.example.com;Port=3307;Database=shop;Uid=admin;Pwd=s3cret;SslMode=Required")).toEqual({
      host: "db.example.com",
      port: 3307,
      database: "shop",
      user: "admin",
      password: "s3cret",
      sslMode: "required",
      sslCaFile: undefined,
    });
    expect(
      parseMysqlConnectionString("Data Source=db;Initial Catalog=shop;User Id=admin@db;Password='pa;ss''word';Ssl Mode=VerifyCA;SslCa=/etc/ca.pem"),
    ).toMatchObject({ host: "db", port: 3306, database: "shop", user: "admin@db", password: "pa;ss'word", sslMode: "verify-ca", sslCaFile: "/etc/ca.pem" });
    expect(parseMysqlConnectionString('host = db ; database = x ; user name = u ; password = "a=b;c" ; sslmode = verifyfull')).toMatchObject({
      host: "db",
      user: "u",
      password: "a=b;c",
      sslMode: "verify-full",
    });
  });

  it("parses Azure's in-app MySQL string with the port in Data Source", () => {
    expect(parseMysqlConnectionString("Database=localdb;Data Source=127.0.0.1:50482;User Id=azure;Password=6#vWHD_$")).toEqual({
      host: "127.0.0.1",
      port: 50482,
      database: "localdb",
      user: "azure",
      password: "6#vWHD_$",
      sslMode: "preferred",
      sslCaFile: undefined,
    });
  });

  it("parses URLs with percent-encoded credentials and ssl-mode", () => {
    expect(parseMysqlConnectionString("mysql://app%40tenant:p%40ss%3Bw@db.example.com:3310/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem")).toEqual({
      host: "db.example.com",
      port: 3310,
      database: "shop",
      user: "app@tenant",
      password: "p@ss;w",
      sslMode: "verify-full",
      sslCaFile: "/ca.pem",
    });
    expect(parseMysqlConnectionString("mariadb://u:p@[::1]/db?sslmode=disabled")).toMatchObject({ host: "::1", port: 3306, sslMode: "none" });
    expect(parseMysqlConnectionString("mysql://u:p@h/db?ssl-mode=REQUIRED").sslMode).toBe("required");
  });

  it.each([
    ["", /empty/],
    ["Server=h;Uid=u;Pwd=topsecret", /names no database/],
    ["Server=h;Database=d;Port=99999;Pwd=topsecret", /port "99999"/],
    ["Server=h;Database=d;SslMode=Sometimes;Pwd=topsecret", /SSL mode "Sometimes" is unknown/],
    ["Server=h;Database=d;Pwd='topsecret", /never closed/],
    ["mysql://u:topsecret@h", /names no database/],
    ["just some words", /neither/],
  ])("rejects %j with a clear DATABASE error that does not show the password", (text, message) => {
    let caught: unknown;
    try {
      parseMysqlConnectionString(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppBackupError);
    const error = caught as AppBackupError;
    expect(error.code).toBe("DATABASE");
    expect(error.message).toMatch(message);
    expect(error.describe()).not.toContain("topsecret");
  });

  it("describes the server and database without credentials", () => {
    const text = mysqlEngine.describe("Server=db.example.com;Database=shop;Uid=admin;Pwd=topsecret");
    expect(text).toBe('MySQL/MariaDB server db.example.com:3306, database "shop"');
  });
});
