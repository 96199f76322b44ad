import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { optionsFromInputs } from "./app-options.js";
import { readInputs, type InputName } from "./inputs.js";
import { originFromContext } from "./origin.js";
import { AppBackupError } from "../../core/errors.js";
import { removeTemporaryFolders, temporaryFolder } from "../../test/support/action-workspace.js";

afterAll(removeTemporaryFolders);

const workspace = "/home/runner/work/shop/shop";

function inputs(values: Partial<Record<InputName, string>>) {
  return readInputs((name) => values[name] ?? "");
}

async function options(values: Partial<Record<InputName, string>>, env: NodeJS.ProcessEnv = {}) {
  return optionsFromInputs(inputs(values), { workspace, env });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppBackupError);
  return (error as AppBackupError).describe();
}

const app = { "app-name": "shop", home: "site" };

describe("inline inputs", () => {
  it("resolve to the same options an app-backup.yml gives: paths against the workspace, databases as connection strings", async () => {
    const resolved = await options(
      { ...app, storage: "file:backups", databases: "MainDb:PostgreSql=${env:MAIN_DB}\n# a comment\n\nShop:MySql=Server=db;Uid=app;Pwd=x;Database=shop", "max-size": "2GB" },
      { MAIN_DB: "postgres://app:secret@db/main" },
    );
    expect(resolved.app.home).toBe(`${workspace}/site`);
    expect(resolved.backup.storage).toEqual({ kind: "local", path: `${workspace}/backups` });
    expect(resolved.backup.maxSizeBytes).toBe(2 * 1024 ** 3);
    expect(resolved.backup.databases).toEqual([
      { connectionStringName: "MainDb", databaseType: "PostgreSql" },
      { connectionStringName: "Shop", databaseType: "MySql" },
    ]);
    expect(resolved.app.connectionStrings.MainDb).toEqual({ type: "PostgreSQL", value: "postgres://app:secret@db/main", declared: "${env:MAIN_DB}" });
    expect(resolved.app.connectionStrings.Shop).toMatchObject({ type: "MySql", value: "Server=db;Uid=app;Pwd=x;Database=shop" });
  });

  it("take every storage form: SAS URL, connection string or account URL with container", async () => {
    const storage = async (values: Partial<Record<InputName, string>>) => (await options({ ...app, ...values })).backup.storage;
    expect(await storage({ storage: "https://acct.blob.core.windows.net/backups?sv=2024&sig=abc" })).toEqual({
      kind: "azure-sas",
      containerUrl: "https://acct.blob.core.windows.net/backups?sv=2024&sig=abc",
    });
    expect(await storage({ storage: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net", container: "backups" })).toMatchObject({
      kind: "azure-connection-string",
      container: "backups",
    });
    expect(await storage({ storage: "https://acct.blob.core.windows.net", container: "backups" })).toEqual({
      kind: "azure-identity",
      accountUrl: "https://acct.blob.core.windows.net",
      container: "backups",
    });
  });

  it("say which input is wrong and how to fix it", async () => {
    expect(await failure(options({ ...app, storage: "UseDevelopmentStorage=true" }))).toBe(
      "Input storage is an Azure Storage connection string, and input container is not set.\nSet container to the name of the blob container that holds the backups.",
    );
    expect(await failure(options({ ...app, storage: "https://acct.blob.core.windows.net/backups" }))).toMatch(/^Input storage is a URL without a SAS token, and input container is not set\./);
    expect(await failure(options({ ...app, storage: "file:backups", container: "x" }))).toMatch(/^Input container is set, but input storage is a local folder/);
    expect(await failure(options({ ...app, storage: "file:b", databases: "MainDb:Postgres=${env:X}" }, { X: "host=db" }))).toBe(
      "The action's inputs are invalid:\n- input databases (database 1): expected one of SqlAzure, MySql, LocalMySql, PostgreSql\nFix the inputs named above; action.yml describes each input and its format.",
    );
    expect(await failure(options({ ...app, storage: "file:b", databases: "MainDb:PostgreSql=${env:MAIN_DB}" }))).toBe(
      "The action's inputs are invalid:\n- input databases (MainDb): refers to the environment variable MAIN_DB, which is not set.\nSet MAIN_DB in the step's env: block.",
    );
    expect(await failure(options({ "app-name": "shop site", home: "h", storage: "file:b" }))).toMatch(/^The action's inputs are invalid:\n- input app-name: expected letters, digits and hyphens/);
    expect(() => inputs({ ...app, "fail-on-partial": "yes" })).toThrow('Input fail-on-partial is "yes", which is not a boolean.');
    expect(() => inputs({ ...app, databases: "MainDb:PostgreSql=a\nMainDb:MySql=b" })).toThrow("Database MainDb is listed twice in input databases.");
  });

  it("read app settings from a mapping or from `az webapp config appsettings list`", async () => {
    const dir = await temporaryFolder("action-settings-");
    await writeFile(path.join(dir, "map.yml"), "WEBSITE_TIME_ZONE: UTC\nWORKERS: 4\n");
    await writeFile(path.join(dir, "az.json"), JSON.stringify([{ name: "GREETING", value: "hi", slotSetting: false }, { name: "EMPTY", value: "" }]));
    await writeFile(path.join(dir, "az-null.json"), JSON.stringify([{ name: "GREETING", value: "hi" }, { name: "EMPTY", value: null }]));
    await writeFile(path.join(dir, "bad.json"), JSON.stringify([{ value: "no name" }]));
    const settings = async (file: string) => (await optionsFromInputs(inputs({ ...app, storage: "file:b", "settings-file": file }), { workspace: dir, env: {} })).app.settings;
    expect(await settings("map.yml")).toEqual({ WEBSITE_TIME_ZONE: "UTC", WORKERS: "4" });
    expect(await settings("az.json")).toEqual({ GREETING: "hi", EMPTY: "" });
    expect(await failure(settings("bad.json"))).toMatch(/^The settings file .*bad\.json is invalid: item 1 has no setting name\./);
    expect(await failure(settings("az-null.json"))).toMatch(/^The settings file .*az-null\.json is invalid: the value of EMPTY is not a string, number or boolean\./);
    expect(await failure(settings("none.json"))).toMatch(/^Cannot read the settings file .*none\.json: it does not exist\./);
  });
});

describe("inputs azure-client-id and azure-tenant-id", () => {
  const clientId = "0f9c2a6e-3d1b-4c5e-8a7f-61b2c3d4e5f6";
  it("sign in as the app registration when both are set, and not at all when neither is", () => {
    expect(inputs({ ...app, "azure-client-id": clientId, "azure-tenant-id": "contoso.onmicrosoft.com" }).azureSignIn).toEqual({ clientId, tenantId: "contoso.onmicrosoft.com" });
    expect(inputs({ ...app, "azure-client-id": clientId, "azure-tenant-id": "AB1F708D-50F6-404C-A006-D71B2AC7A606" }).azureSignIn?.tenantId).toBe("AB1F708D-50F6-404C-A006-D71B2AC7A606");
    expect(inputs(app).azureSignIn).toBeUndefined();
  });

  it("say which is missing or malformed, and how to set them", () => {
    expect(() => inputs({ ...app, "azure-tenant-id": "contoso.onmicrosoft.com" })).toThrow(
      "Input azure-client-id is not set, but input azure-tenant-id is: the OIDC sign-in to Entra ID needs both.",
    );
    expect(() => inputs({ ...app, "azure-client-id": "shop-backups", "azure-tenant-id": "contoso.onmicrosoft.com" })).toThrow(
      'Input azure-client-id is "shop-backups", which is not an application (client) ID: it is a GUID.',
    );
    expect(() => inputs({ ...app, "azure-client-id": clientId, "azure-tenant-id": "https://login.microsoftonline.com/contoso" })).toThrow(/^Input azure-tenant-id is "https:.*", which is neither/);
    const thrown = (() => {
      try {
        inputs({ ...app, "azure-client-id": clientId });
      } catch (error) {
        return error as AppBackupError;
      }
    })();
    expect(thrown?.hint).toContain("permissions: id-token: write");
  });
});

describe("input list-limit", () => {
  it("is 100 by default, any whole number from 1 to 1000 when set, and only for list", () => {
    const list = { ...app, operation: "list" };
    expect(inputs(list).listLimit).toBe(100);
    expect(inputs({ ...list, "list-limit": "1" }).listLimit).toBe(1);
    expect(inputs({ ...list, "list-limit": " 1000 " }).listLimit).toBe(1000);
    for (const wrong of ["0", "1001", "2.5", "-3", "1e3", "ten"]) {
      expect(() => inputs({ ...list, "list-limit": wrong }), wrong).toThrow(`Input list-limit is "${wrong}", which is not a whole number from 1 to 1000.`);
    }
    expect(() => inputs({ ...app, "list-limit": "10" })).toThrow("Input list-limit applies to list, not to backup.");
  });
});

describe("inline inputs built on ${env:VAR}", () => {
  it("reject a variable that is empty, as an unset secret expands, naming the input and the variable", async () => {
    expect(await failure(options({ ...app, storage: "file:b", databases: "MainDb:PostgreSql=${env:MAIN_DB}" }, { MAIN_DB: "" }))).toBe(
      "The action's inputs are invalid:\n- input databases (MainDb): refers to the environment variable MAIN_DB, which is empty.\n" +
        "Set MAIN_DB to a value in the step's env: block (a secret that does not exist expands to an empty value).",
    );
    expect(await failure(options({ "app-name": "shop", home: "./${env:SITE_DIR}", storage: "file:b" }, { SITE_DIR: " " }))).toMatch(
      /^The action's inputs are invalid:\n- input home: refers to the environment variable SITE_DIR, which is empty\./,
    );
    expect(await failure(options({ ...app, storage: "${env:BACKUP_STORAGE}" }, { BACKUP_STORAGE: "" }))).toMatch(
      /- input storage: refers to the environment variable BACKUP_STORAGE, which is empty\./,
    );
  });

  it("a settings file that is not valid YAML is reported without quoting its lines", async () => {
    const dir = await temporaryFolder("action-settings-");
    await writeFile(path.join(dir, "broken.yml"), 'WEBSITE_TIME_ZONE: UTC\nAPI_KEY: "Sekr3t-Pa55\n');
    const error = await failure(optionsFromInputs(inputs({ ...app, storage: "file:b", "settings-file": "broken.yml" }), { workspace: dir, env: {} }));
    expect(error).toMatch(/is invalid: it is not valid YAML or JSON: .* at line \d+, column \d+\./);
    expect(error).not.toContain("Sekr3t");
  });
});

describe("the manifest's origin", () => {
  it("records the repository, commit, ref, workflow run with its URL and actor, leaving out what is unknown", () => {
    const context = {
      sha: "abc123",
      ref: "refs/tags/v2",
      workflow: "Release",
      actor: "mona",
      eventName: "release",
      runId: 77,
      runAttempt: 2,
      serverUrl: "https://ghe.contoso.com/",
      repo: { owner: "contoso", repo: "shop" },
    };
    expect(originFromContext(context)).toEqual({
      source: "github-actions",
      repository: "contoso/shop",
      sha: "abc123",
      ref: "refs/tags/v2",
      workflow: "Release",
      event: "release",
      runId: "77",
      runAttempt: "2",
      runUrl: "https://ghe.contoso.com/contoso/shop/actions/runs/77",
      actor: "mona",
    });
    expect(originFromContext({ ...context, repo: { owner: "", repo: "" }, runId: NaN, runAttempt: NaN, actor: "" })).toEqual({
      source: "github-actions",
      sha: "abc123",
      ref: "refs/tags/v2",
      workflow: "Release",
      event: "release",
    });
  });
});
