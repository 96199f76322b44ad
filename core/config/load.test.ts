import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AppBackupError } from "../errors.js";
import { loadConfig, resolveConfig } from "./load.js";
import { resolveStorage } from "./storage.js";

async function configFile(text: string, name = "app-backup.yml"): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "config-"));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function failure(promise: Promise<unknown>): Promise<AppBackupError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppBackupError);
  return error as AppBackupError;
}

describe("loadConfig", () => {
  it("resolves paths against the config file, env references and defaults", async () => {
    const file = await configFile(`
name: contoso
home: ./site
settings: { WEBSITE_TIME_ZONE: UTC, PORT: 8080 }
connectionStrings:
  MainDb: { type: PostgreSQL, value: "\${env:MAIN_DB}" }
backup:
  storage: file:./backups
  databases: [ { connectionStringName: MainDb, databaseType: PostgreSql } ]
  maxSize: 2GB
`);
    const options = await loadConfig(file, { MAIN_DB: "postgres://u:secret@localhost/db" });
    const dir = path.dirname(file);
    expect(options.app.name).toBe("contoso");
    expect(options.app.home).toBe(path.join(dir, "site"));
    expect(options.app.settings).toEqual({ WEBSITE_TIME_ZONE: "UTC", PORT: "8080" });
    expect(options.app.connectionStrings.MainDb).toEqual({
      type: "PostgreSQL",
      value: "postgres://u:secret@localhost/db",
      declared: "${env:MAIN_DB}",
    });
    expect(options.backup.storage).toEqual({ kind: "local", path: path.join(dir, "backups") });
    expect(options.backup.maxSizeBytes).toBe(2 * 1024 ** 3);
    expect(options.backup.databaseMaxSizeBytes).toBe(4 * 1024 ** 3);
    expect(options.backup.enabled).toBe(true);
  });

  it("reads JSON too, and defaults the container to ./backups beside the config", async () => {
    const file = await configFile(JSON.stringify({ name: "app1", home: "/srv/app" }), "app-backup.json");
    const options = await loadConfig(file, {});
    expect(options.app.home).toBe("/srv/app");
    expect(options.backup.storage).toEqual({ kind: "local", path: path.join(path.dirname(file), "backups") });
    expect(options.backup.maxSizeBytes).toBe(10 * 1024 ** 3);
  });

  it("accepts every storage form", () => {
    const base = { name: "a", home: "/h" };
    const resolve = (storage: unknown) => resolveConfig({ ...base, backup: { storage } }, { baseDir: "/cfg", env: {} }).backup.storage;
    expect(resolve("https://acct.blob.core.windows.net/c?sv=1&sig=abc")).toEqual({
      kind: "azure-sas",
      containerUrl: "https://acct.blob.core.windows.net/c?sv=1&sig=abc",
    });
    expect(resolve({ connectionString: "UseDevelopmentStorage=true", container: "c" })).toMatchObject({ kind: "azure-connection-string", container: "c" });
    expect(resolve({ accountUrl: "https://acct.blob.core.windows.net", container: "c" })).toMatchObject({ kind: "azure-identity" });
    expect(resolve({ path: "b" })).toEqual({ kind: "local", path: "/cfg/b" });
    expect(resolve("file:///var/backups")).toEqual({ kind: "local", path: "/var/backups" });
    const fromEnv = (value: string) =>
      resolveConfig({ ...base, backup: { storage: "${env:BACKUP_STORAGE}" } }, { baseDir: "/cfg", env: { BACKUP_STORAGE: value } }).backup.storage;
    expect(fromEnv("https://acct.blob.core.windows.net/c?sig=x")).toEqual({ kind: "azure-sas", containerUrl: "https://acct.blob.core.windows.net/c?sig=x" });
    expect(fromEnv("file:./b")).toEqual({ kind: "local", path: "/cfg/b" });
    expect(() => fromEnv("ftp://x")).toThrow(/backup\.storage: the value from the environment is neither/);
  });

  it("names the bad key and says what is expected", async () => {
    const file = await configFile(`
name: contoso
home: ./site
backup:
  storage: ftp://nowhere
  maxSize: ten gigs
  databases: [ { connectionStringName: X, databaseType: Oracle } ]
  retention: 3
`);
    const error = await failure(loadConfig(file, {}));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/backup\.storage: expected a container SAS URL/);
    expect(error.message).toMatch(/backup\.maxSize: expected a size such as "10GB"/);
    expect(error.message).toMatch(/backup\.databases\[0\]\.databaseType: expected one of SqlAzure, MySql, LocalMySql, PostgreSql/);
    expect(error.message).toMatch(/backup: unknown key "retention"/);
    // The same problems by key, for front ends that name their own inputs.
    expect(error.issues).toHaveLength(4);
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: "backup.storage", message: expect.stringMatching(/^expected a container SAS URL/) },
        { path: "backup.maxSize", message: 'expected a size such as "10GB", "512MB" or a number of bytes' },
        { path: "backup.databases[0].databaseType", message: "expected one of SqlAzure, MySql, LocalMySql, PostgreSql" },
        { path: "backup", message: 'unknown key "retention"' },
      ]),
    );
  });

  it("names every unknown key of a section, each with the key it most likely meant", () => {
    const raw = {
      name: "shop",
      home: "./site",
      Home: "./other",
      backup: { storage: "file:./b", maxsize: "1GB", retenton: 3, schedul: {}, nonsense: true, schedule: { frequencyIntervl: 2 } },
    };
    let caught: unknown;
    try {
      resolveConfig(raw, { baseDir: "/cfg", env: {} });
    } catch (error) {
      caught = error;
    }
    const error = caught as AppBackupError;
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.issues).toEqual([
      { path: "backup.schedule", message: 'unknown key "frequencyIntervl" (did you mean "frequencyInterval"?)' },
      { path: "backup", message: 'unknown key "maxsize" (did you mean "maxSize"?)' },
      { path: "backup", message: 'unknown key "retenton"' },
      { path: "backup", message: 'unknown key "schedul" (did you mean "schedule"?)' },
      { path: "backup", message: 'unknown key "nonsense"' },
      { path: "", message: 'unknown key "Home" (did you mean "home"?)' },
    ]);
    expect(error.message).toContain('- backup: unknown key "nonsense"');
  });

  it("gives each problem of a storage resolved alone at its key", () => {
    expect(resolveStorage({ path: "b" }, { baseDir: "/cfg", env: {} })).toEqual({ kind: "local", path: "/cfg/b" });
    expect(resolveStorage("${env:SAS}", { baseDir: "/cfg", env: { SAS: "https://acct.blob.core.windows.net/c?sig=x" } })).toEqual({
      kind: "azure-sas",
      containerUrl: "https://acct.blob.core.windows.net/c?sig=x",
    });
    const issuesOf = (storage: unknown, env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveStorage(storage, { baseDir: "/cfg", env });
      } catch (error) {
        return (error as AppBackupError).issues;
      }
    };
    expect(issuesOf(42)).toEqual([{ path: "backup.storage", message: expect.stringMatching(/^expected a container SAS URL, "file:\.\/folder"/) }]);
    expect(issuesOf("${env:STORE}", { STORE: "ftp://x" })).toEqual([
      { path: "backup.storage", message: "the value from the environment is neither a container SAS URL nor file:./folder." },
    ]);
    expect(issuesOf({ accountUrl: "https://acct.blob.core.windows.net", container: "${env:C}" })).toEqual([
      { path: "backup.storage.container", message: "refers to the environment variable C, which is not set." },
    ]);
  });

  it("reports a missing environment variable by key and name", async () => {
    const file = await configFile(`
name: contoso
home: ./site
connectionStrings: { Db: { type: MySql, value: "\${env:DB_URL}" } }
`);
    const error = await failure(loadConfig(file, {}));
    expect(error.message).toContain("connectionStrings.Db.value: refers to the environment variable DB_URL, which is not set");
    expect(error.hint).toContain("Set DB_URL");
  });

  it("rejects a database whose connection string is not declared", () => {
    expect(() =>
      resolveConfig({ name: "a", home: "/h", backup: { databases: [{ connectionStringName: "Nope", databaseType: "MySql" }] } }, { baseDir: "/", env: {} }),
    ).toThrow(/backup\.databases\[0\]\.connectionStringName: "Nope" is not one of the app's connectionStrings/);
  });

  it("says when the file is missing or not YAML", async () => {
    const missing = await failure(loadConfig("/nonexistent/app-backup.yml"));
    expect(missing.code).toBe("CONFIG_UNREADABLE");
    expect(missing.message).toContain("does not exist");
    const broken = await failure(loadConfig(await configFile("name: [unclosed\nhome: x")));
    expect(broken.code).toBe("CONFIG_UNREADABLE");
    expect(broken.message).toContain("not valid YAML or JSON");
  });

  it("requires name and home", () => {
    expect(() => resolveConfig({ settings: {} }, { baseDir: "/", env: {} })).toThrow(/- name: .*\n- home: /s);
  });

  it("rejects a home, storage or connection string whose variable is empty or blank, naming the key and the variable", () => {
    const base = { name: "a", home: "./site" };
    const resolveWith = (config: Record<string, unknown>, env: NodeJS.ProcessEnv) => () =>
      resolveConfig({ ...base, ...config }, { baseDir: "/cfg", env });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ home: "${env:APP_HOME}" }, "home"],
      [{ home: "./${env:APP_HOME}" }, "home"],
      [{ backup: { storage: "${env:APP_HOME}" } }, "backup.storage"],
      [{ backup: { storage: "file:./${env:APP_HOME}" } }, "backup.storage"],
      [{ backup: { storage: { path: "${env:APP_HOME}/b" } } }, "backup.storage.path"],
      [{ backup: { storage: { connectionString: "${env:APP_HOME}", container: "c" } } }, "backup.storage.connectionString"],
      [{ backup: { storage: { connectionString: "UseDevelopmentStorage=true", container: "c${env:APP_HOME}" } } }, "backup.storage.container"],
      [{ backup: { storage: { accountUrl: "https://acct.blob.core.windows.net", container: "${env:APP_HOME}" } } }, "backup.storage.container"],
      [{ connectionStrings: { Db: { type: "PostgreSQL", value: "${env:APP_HOME}" } } }, "connectionStrings.Db.value"],
      [{ connectionStrings: { Db: { type: "MySql", value: "Server=db;Database=x;Pwd=${env:APP_HOME}" } } }, "connectionStrings.Db.value"],
    ];
    for (const [config, key] of cases) {
      for (const empty of ["", "  ", "\t\n"]) {
        expect(resolveWith(config, { APP_HOME: empty }), `${key} with ${JSON.stringify(empty)}`).toThrow(
          `- ${key}: refers to the environment variable APP_HOME, which is empty.`,
        );
      }
    }
    // Settings may legitimately be empty.
    expect(resolveWith({ settings: { FEATURE: "${env:APP_HOME}" } }, { APP_HOME: "" })().app.settings).toEqual({ FEATURE: "" });
  });

  it("never resolves an empty home variable to the configuration's folder", async () => {
    const file = await configFile("name: contoso\nhome: ${env:APP_HOME}\n");
    const error = await failure(loadConfig(file, { APP_HOME: "" }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(file);
    expect(error.message).toContain("home: refers to the environment variable APP_HOME, which is empty");
    expect(error.hint).toContain("Set APP_HOME");
  });

  it("reads $${env:VAR} as the literal text ${env:VAR}", () => {
    const options = resolveConfig(
      {
        name: "a",
        home: "/h",
        settings: { TEMPLATE: "$${env:NOT_SET} and ${env:SET}", TWICE: "$$${env:SET}" },
        connectionStrings: { Db: { type: "MySql", value: "Server=db;Database=x;Pwd=$${env:LITERAL}" } },
      },
      { baseDir: "/", env: { SET: "v" } },
    );
    expect(options.app.settings).toEqual({ TEMPLATE: "${env:NOT_SET} and v", TWICE: "$${env:SET}" });
    expect(options.app.connectionStrings.Db!.value).toBe("Server=db;Database=x;Pwd=${env:LITERAL}");
    // As declared: the escape stays, so the configuration reads the same way again.
    expect(options.app.declaredSettings.TEMPLATE).toBe("$${env:NOT_SET} and ${env:SET}");
  });

  it("does not quote the source line of a YAML syntax error: it may hold a password", async () => {
    const password = "Sekr3t-Pa55";
    const texts = [
      `name: a\nhome: .\nconnectionStrings:\n  Db: { type: MySql, value: "Server=h;Pwd=${password};Database=d" ]\n`,
      `name: a\nhome: .\nsettings:\n  API_KEY: "${password}\n`,
      `{"name": "a", "home": ".", "settings": {"API_KEY": "${password}" "x"}}`,
      `name: a\nhome: .\nsettings:\n\tAPI_KEY: ${password}\n`,
    ];
    for (const text of texts) {
      const error = await failure(loadConfig(await configFile(text)));
      expect(error.code).toBe("CONFIG_UNREADABLE");
      expect(error.message).toMatch(/not valid YAML or JSON: .+ at line \d+, column \d+\.$/);
      expect(error.describe()).not.toContain(password.slice(0, 4));
      expect(error.describe()).not.toContain("Pa55");
    }
  });
});
