import { describe, expect, it } from "vitest";
import { resolveConfig, type AppBackupOptions } from "../../core/index.js";
import { accountAndContainer, entraTokenAudience, signedInOptions, withContainerFromStorageUrl } from "./azure-sign-in.js";
import { readInputs, type InputName } from "./inputs.js";

const signIn = { clientId: "0f9c2a6e-3d1b-4c5e-8a7f-61b2c3d4e5f6", tenantId: "contoso.onmicrosoft.com" };
const oidc = { getIdToken: async () => "id-token", onToken: () => undefined, env: {} };

function optionsWith(storage: unknown): AppBackupOptions {
  return resolveConfig({ name: "shop", home: ".", backup: { storage } }, { baseDir: "/work" });
}

function inputs(values: Partial<Record<InputName, string>>) {
  return readInputs((name) => values[name] ?? "");
}

describe("the OIDC sign-in's storage", () => {
  it("splits a container URL into its account URL and container, wherever the account sits", () => {
    expect(accountAndContainer("https://acct.blob.core.windows.net/backups")).toEqual({ accountUrl: "https://acct.blob.core.windows.net", container: "backups" });
    expect(accountAndContainer("https://127.0.0.1:10000/devstoreaccount1/backups/")).toEqual({ accountUrl: "https://127.0.0.1:10000/devstoreaccount1", container: "backups" });
    expect(accountAndContainer("https://acct.blob.core.windows.net")).toBeUndefined();
    expect(accountAndContainer("https://acct.blob.core.windows.net/backups?sv=1&sig=x")).toBeUndefined();
  });

  it("lets inline inputs name the container in the storage URL, only when signing in and without input container", () => {
    const url = "https://acct.blob.core.windows.net/backups";
    expect(withContainerFromStorageUrl(inputs({ storage: url, "azure-client-id": signIn.clientId, "azure-tenant-id": signIn.tenantId })).app).toMatchObject({
      storage: "https://acct.blob.core.windows.net",
      container: "backups",
    });
    expect(withContainerFromStorageUrl(inputs({ storage: url })).app).toMatchObject({ storage: url, container: undefined });
    const both = inputs({ storage: "https://acct.blob.core.windows.net", container: "backups", "azure-client-id": signIn.clientId, "azure-tenant-id": signIn.tenantId });
    expect(withContainerFromStorageUrl(both)).toBe(both);
  });

  it("signs in an account URL with container, or a container URL without a SAS; leaves options alone without the inputs", () => {
    const account = signedInOptions(optionsWith({ accountUrl: "https://acct.blob.core.windows.net", container: "backups" }), signIn, oidc).backup.storage;
    expect(account).toEqual({ kind: "azure-identity", accountUrl: "https://acct.blob.core.windows.net", container: "backups", credential: expect.anything() });
    const container = signedInOptions(optionsWith("https://acct.blob.core.windows.net/backups"), signIn, oidc).backup.storage;
    expect(container).toEqual({ kind: "azure-identity", accountUrl: "https://acct.blob.core.windows.net", container: "backups", credential: expect.anything() });
    const unchanged = optionsWith({ accountUrl: "https://acct.blob.core.windows.net", container: "backups" });
    expect(signedInOptions(unchanged, undefined, oidc)).toBe(unchanged);
  });

  it("shows nothing of the credential when the options are printed", () => {
    const options = signedInOptions(optionsWith("https://acct.blob.core.windows.net/backups"), signIn, oidc);
    expect(JSON.stringify(options.backup.storage)).toBe('{"kind":"azure-identity","accountUrl":"https://acct.blob.core.windows.net","container":"backups","credential":{}}');
  });

  it("refuses the sign-in inputs for storage that carries its own credential", () => {
    for (const [storage, what] of [
      ["file:./backups", "a local folder"],
      ["https://acct.blob.core.windows.net/backups?sv=2024&sig=abc", "a container SAS URL"],
      [{ connectionString: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5", container: "backups" }, "a connection string"],
    ] as const) {
      expect(() => signedInOptions(optionsWith(storage), signIn, oidc)).toThrow(
        `Inputs azure-client-id and azure-tenant-id sign in to Azure Storage through Entra ID, but the storage is ${what}, which needs no sign-in.`,
      );
    }
  });

  it("asks GitHub for tokens of Entra ID's federation audience", () => {
    expect(entraTokenAudience).toBe("api://AzureADTokenExchange");
  });
});
