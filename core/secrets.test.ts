import { describe, expect, it } from "vitest";
import { displayUrl, Redactor, redactConnectionString, redactPatterns, secretsInConnectionString } from "./secrets.js";

describe("secrets", () => {
  it("finds the credential in every connection-string form", () => {
    expect(secretsInConnectionString("postgres://app:p%40ss@db:5432/main")).toEqual(expect.arrayContaining(["p%40ss", "p@ss"]));
    expect(secretsInConnectionString("Server=db;Database=x;User Id=sa;Password=Sup3r;Secret;")).toContain("Sup3r");
    expect(secretsInConnectionString('Server=db;Pwd="quoted;pw";')).toContain("quoted;pw");
    expect(secretsInConnectionString("host=db dbname=x password='a b\\'c'")).toContain("a b'c");
    expect(secretsInConnectionString("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=KEY123==;")).toContain("KEY123==");
  });

  it("masks registered secrets and credential patterns it was not told about", () => {
    const redactor = new Redactor();
    redactor.add("hunter2-password");
    const text = redactor.redact(
      "failed: hunter2-password at https://a.blob.core.windows.net/c/x.zip?sv=2024&sig=abc%2Fdef&se=2030 and AccountKey=xyz== and mysql://root:pw@h/db Password=zzz;",
    );
    expect(text).not.toMatch(/hunter2|abc%2Fdef|xyz==|:pw@|zzz/);
    expect(text).toContain("sig=***");
    expect(text).toContain("AccountKey=***");
  });

  it("prints URLs without SAS or user info", () => {
    expect(displayUrl("https://a.blob.core.windows.net/c?sv=1&sig=s")).toBe("https://a.blob.core.windows.net/c");
    expect(displayUrl("postgres://u:p@h:5432/db")).toBe("postgres://h:5432/db");
    expect(redactPatterns("no secret here")).toBe("no secret here");
  });

  it("masks a quoted ADO.NET password whole, doubled quotes and all", () => {
    const connectionString = 'Server=db;Database=shop;User Id=sa;Password="ab""cd;tail";Encrypt=True';
    const redactor = new Redactor();
    redactor.addConnectionString(connectionString, "SQLServer");
    const text = redactor.redact(`Cannot connect with ${connectionString}`);
    expect(text).toBe("Cannot connect with Server=db;Database=shop;User Id=sa;Password=***;Encrypt=True");
    expect(redactPatterns(connectionString)).toBe("Server=db;Database=shop;User Id=sa;Password=***;Encrypt=True");
  });

  it("masks a URL password that holds @ up to the last @ of the authority", () => {
    const connectionString = "postgres://app:p@ss@w0rd@db:5432/main?sslmode=require";
    const redactor = new Redactor();
    redactor.addConnectionString(connectionString, "PostgreSQL");
    expect(redactor.redact(`failed: ${connectionString}`)).toBe("failed: postgres://app:***@db:5432/main?sslmode=require");
    expect(redactPatterns(`failed: ${connectionString}`)).toBe("failed: postgres://app:***@db:5432/main?sslmode=require");
    expect(redactor.values).toContain("p@ss@w0rd");
  });

  it("masks passwords of 1 to 3 characters where they stand as the password, and nowhere else", () => {
    for (const [connectionString, type, masked] of [
      ["Server=db;Database=shop;Uid=a;Pwd=a;SslMode=Required", "MySql", "Server=db;Database=shop;Uid=a;Pwd=***;SslMode=Required"],
      ["Server=db;Database=shop;User Id=sa;Password=a b;Encrypt=True", "SQLServer", "Server=db;Database=shop;User Id=sa;Password=***;Encrypt=True"],
      ["mysql://a:a@db:3306/shop", "MySql", "mysql://a:***@db:3306/shop"],
      ["host=db dbname=shop user=a password=a sslmode=require", "PostgreSQL", "host=db dbname=shop user=a password=*** sslmode=require"],
    ] as const) {
      const redactor = new Redactor();
      redactor.addConnectionString(connectionString, type);
      expect(redactor.redact(`error: ${connectionString} (a database)`)).toBe(`error: ${masked} (a database)`);
    }
  });

  it("keeps the options after a Redis password", () => {
    const connectionString = "shop.redis.cache.windows.net:6380,password=abc,ssl=True,abortConnect=False";
    const redactor = new Redactor();
    redactor.addConnectionString(connectionString, "RedisCache");
    const masked = "shop.redis.cache.windows.net:6380,password=***,ssl=True,abortConnect=False";
    expect(redactor.redact(connectionString)).toBe(masked);
    expect(redactPatterns(connectionString)).toBe(masked);
    expect(redactConnectionString(connectionString)).toBe(masked);
  });

  it("masks a registered secret in the forms it is written in: JSON, percent-encoded, doubled quotes", () => {
    const redactor = new Redactor();
    const secret = 'qx"zk\\vj\'yf';
    redactor.add(secret);
    const text = redactor.redact(`${JSON.stringify({ key: secret })} ${encodeURIComponent(secret)} "qx""zk\\vj'yf" 'qx"zk\\\\vj\\'yf'`);
    expect(text).toBe('{"key":"***"} *** "***" \'***\'');
  });

  it("keeps ${env:VAR} references when masking the declared form", () => {
    expect(redactConnectionString("Server=db;Pwd=${env:DB_PASSWORD};Database=shop", "MySql", { keepReferences: true })).toBe(
      "Server=db;Pwd=${env:DB_PASSWORD};Database=shop",
    );
    expect(redactConnectionString("Server=db;Pwd=literal;Database=shop", "MySql", { keepReferences: true })).toBe("Server=db;Pwd=***;Database=shop");
  });
});
