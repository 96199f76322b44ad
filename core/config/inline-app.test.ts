import { describe, expect, it } from "vitest";
import { AppBackupError } from "../errors.js";
import { configFromInlineApp, resolveInlineApp, type InlineApp, type InlineWording } from "./inline-app.js";

/** A front end that names its values `<key>`, so a test sees which value each message names. */
const wording: InlineWording = {
  name: (key) => `<${key}>`,
  missing: (keys) => new AppBackupError("USAGE", `missing ${keys.join(" ")}`),
  containerHint: "container hint",
  accountUrlHint: "account URL hint",
  containerNotUsedHint: "no container hint",
  settingsFileHint: "settings hint",
  invalidHeading: "The values are invalid:",
  invalidHint: "Fix the values.",
};

const app = (extra: Partial<InlineApp> = {}): InlineApp => ({ appName: "shop", home: "/srv/shop", storage: "file:/backups", databases: [], ...extra });
const resolve = (inline: InlineApp, needsHome = true) => resolveInlineApp(inline, { needsHome, baseDir: "/work", env: { SHOP_DB: "postgres://u:p@db/shop" }, wording });

describe("an app described inline", () => {
  it("becomes the configuration an app-backup.yml of the same app holds", async () => {
    const raw = await configFromInlineApp(
      app({ databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql", connectionString: "${env:SHOP_DB}" }], filter: ["site/logs"], maxSize: "1GB" }),
      { needsHome: true, baseDir: "/work", wording },
    );
    expect(raw).toEqual({
      name: "shop",
      home: "/srv/shop",
      settings: {},
      connectionStrings: { MainDb: { type: "PostgreSQL", value: "${env:SHOP_DB}" } },
      backup: { storage: "file:/backups", databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql" }], filter: ["site/logs"], maxSize: "1GB" },
    });
    const options = await resolve(app({ databases: [{ connectionStringName: "MainDb", databaseType: "PostgreSql", connectionString: "${env:SHOP_DB}" }] }));
    expect(options.app.connectionStrings.MainDb!.value).toBe("postgres://u:p@db/shop");
    expect(options.backup.storage).toEqual({ kind: "local", path: "/backups" });
  });

  it("says which required values are missing, in the front end's words; the home only where it is needed", async () => {
    await expect(resolve({ databases: [] })).rejects.toThrow("missing appName storage home");
    await expect(resolve({ appName: "shop", storage: "file:/b", databases: [] }, false)).resolves.toMatchObject({ app: { name: "shop" } });
  });

  it("names the value of each invalid key, and the database by its position", async () => {
    let error: AppBackupError | undefined;
    try {
      await resolve(app({ appName: "shop_1", maxSize: "lots", databases: [{ connectionStringName: "A", databaseType: "Oracle", connectionString: "x" }] }));
    } catch (caught) {
      error = caught as AppBackupError;
    }
    expect(error?.code).toBe("CONFIG_INVALID");
    expect(error?.message).toMatch(/^The values are invalid:\n- <appName>: expected letters/);
    expect(error?.message).toContain("- <maxSize>: expected a size");
    expect(error?.message).toContain("- <databases> (database 1): expected one of SqlAzure");
    expect(error?.hint).toBe("Fix the values.");
  });

  it("asks for a container where the storage names an account, and refuses one where it names its own", async () => {
    await expect(resolve(app({ storage: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k" }))).rejects.toThrow(
      "<storage> is an Azure Storage connection string, and <container> is not set.",
    );
    await expect(resolve(app({ storage: "https://a.blob.core.windows.net" }))).rejects.toThrow("<storage> is a URL without a SAS token, and <container> is not set.");
    await expect(resolve(app({ container: "c" }))).rejects.toThrow("<container> is set, but <storage> is a local folder (file:), which names its container itself.");
    expect((await resolve(app({ storage: "https://a.blob.core.windows.net", container: "c" }))).backup.storage).toMatchObject({ kind: "azure-identity", container: "c" });
  });
});
