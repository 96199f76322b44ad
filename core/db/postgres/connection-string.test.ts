import { describe, expect, test } from "vitest";
import { AppBackupError } from "../../errors.js";
import { describePostgresSettings, parsePostgresConnectionString } from "./index.js";

describe("PostgreSQL connection strings", () => {
  test("URL form with a percent-encoded password and TLS parameters", () => {
    expect(parsePostgresConnectionString("postgres://app%40srv:p%40ss%2Fw%3Ard@db.example.com:6543/shop%20db?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=nightly"))
      .toEqual({
        host: "db.example.com", port: 6543, database: "shop db", user: "app@srv", password: "p@ss/w:rd",
        sslMode: "verify-full", sslRootCert: "/etc/ca.pem", applicationName: "nightly",
      });
  });

  test("URL defaults: port 5432, sslmode prefer; postgresql:// and IPv6 hosts", () => {
    expect(parsePostgresConnectionString("postgresql://u@[::1]/d")).toEqual({ host: "::1", port: 5432, database: "d", user: "u", sslMode: "prefer" });
    expect(parsePostgresConnectionString("postgres:///d?host=/var/run/postgresql")).toMatchObject({ host: "/var/run/postgresql", database: "d" });
  });

  test("libpq keyword form with quoted values", () => {
    expect(parsePostgresConnectionString(String.raw`host=db.internal port=5433 dbname=shop user=app password='it\'s a secret' sslmode=verify-ca sslrootcert=/ca.pem`))
      .toEqual({ host: "db.internal", port: 5433, database: "shop", user: "app", password: "it's a secret", sslMode: "verify-ca", sslRootCert: "/ca.pem" });
  });

  test("libpq keyword form with hostaddr keeps host for certificate checks", () => {
    expect(parsePostgresConnectionString("host=db.example.com hostaddr=10.0.0.5 dbname=d user=u sslmode=require"))
      .toMatchObject({ host: "db.example.com", hostaddr: "10.0.0.5", sslMode: "require" });
  });

  test("ADO.NET form as Azure shows it, any key spelling and SSL Mode names", () => {
    expect(parsePostgresConnectionString("Server=myserver.postgres.database.azure.com;Database=shop;Port=5432;User Id=admin@myserver;Password=se;cret=1;Ssl Mode=Require;"))
      .toMatchObject({ host: "myserver.postgres.database.azure.com", port: 5432, database: "shop", user: "admin@myserver", sslMode: "require" });
    expect(parsePostgresConnectionString("Host=h:6000;Username=u;Password='a;b';SSL Mode=VerifyFull;Root Certificate=/ca.pem"))
      .toEqual({ host: "h", port: 6000, user: "u", password: "a;b", sslMode: "verify-full", sslRootCert: "/ca.pem" });
    expect(parsePostgresConnectionString("Host=h;SslMode=VerifyCA").sslMode).toBe("verify-ca");
    expect(parsePostgresConnectionString("Host=h;SslMode=Disable").sslMode).toBe("disable");
  });

  test("mistakes get a clear error that never echoes a value", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /it is empty/],
      ["mysql://u:topsecret@h/d", /must start with "postgres:\/\/"/],
      ["host=h port=99999 password=topsecret", /port/],
      ["host=h sslmode=sometimes password=topsecret", /SSL mode/],
      ["host=h passwrd=topsecret", /"passwrd" is not a connection parameter/],
      ["postgres://u:topsecret@h1,h2/d", /several hosts/],
      ["host=h password='topsecret", /never closed/],
    ];
    for (const [text, expected] of cases) {
      let error: unknown;
      try {
        parsePostgresConnectionString(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(AppBackupError);
      expect((error as AppBackupError).message).toMatch(expected);
      expect((error as AppBackupError).message).not.toContain("topsecret");
      expect((error as AppBackupError).hint ?? "").not.toContain("topsecret");
    }
  });

  test("describe shows host, port and database only", () => {
    expect(describePostgresSettings(parsePostgresConnectionString("postgres://u:pw@db:5432/shop"))).toBe('PostgreSQL server db:5432, database "shop"');
    expect(describePostgresSettings(parsePostgresConnectionString("host=::1 user=app"))).toBe('PostgreSQL server [::1]:5432, database "app"');
  });
});
