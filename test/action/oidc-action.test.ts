import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace, removeTemporaryFolders, temporaryFolder } from "../support/action-workspace.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import {
  startEntraStandIn,
  startIdTokenEndpoint,
  startThrottlingProxy,
  trustBundle,
  type EntraStandIn,
  type ThrottlingProxy,
} from "../support/entra-stand-in.js";
import { runAction, type ActionRun } from "../support/run-action.js";

/**
 * The Action signing in to Azure Storage as an app registration through
 * GitHub's OIDC token: Azurite in OAuth mode checks each access token's issuer,
 * audience and lifetime as Azure Storage does; Entra ID's token endpoint and the
 * runner's ID token endpoint are loopback stand-ins.
 */
const tenantId = "ab1f708d-50f6-404c-a006-d71b2ac7a606";
const clientId = "0f9c2a6e-3d1b-4c5e-8a7f-61b2c3d4e5f6";
const accessTokenSeconds = 2;

let azurite: Azurite;
let entra: EntraStandIn;
let slowLink: ThrottlingProxy;
let trusted: string;
beforeAll(async () => {
  azurite = await startAzurite({ oauth: true });
  entra = await startEntraStandIn({ tenantId, clientId, expiresInSeconds: accessTokenSeconds });
  trusted = await trustBundle(await temporaryFolder("trust-"), [azurite.caCertificate!, entra.caCertificate]);
  // 3 MB of zip at 512 KB/s: the upload alone outlasts an access token several times over.
  slowLink = await startThrottlingProxy(azurite.port, 512 * 1024);
});
afterAll(async () => {
  await slowLink?.stop();
  await entra?.stop();
  await azurite?.stop();
  await removeTemporaryFolders();
});

function everythingVisible(run: ActionRun): string {
  return [run.visibleLog, run.stderr, run.files].join("\n");
}

const signIn = { "azure-client-id": clientId, "azure-tenant-id": tenantId };

describe("OIDC sign-in (azure-client-id, azure-tenant-id)", () => {
  it("keeps a backup that outlives its access tokens signed in, each token exchanged for a fresh ID token, none of them shown", async () => {
    const idTokens = await startIdTokenEndpoint();
    try {
      const { workspace } = await makeWorkspace();
      await writeFile(path.join(workspace, "home/site/wwwroot/media.bin"), randomBytes(3 * 1024 * 1024));
      const env = { ...idTokens.env, AZURE_AUTHORITY_HOST: entra.authorityHost, NODE_EXTRA_CA_CERTS: trusted };
      const accountUrl = `https://127.0.0.1:${slowLink.port}/devstoreaccount1`;
      const firstRequest = entra.requests.length;
      const firstIssued = entra.issued.length;

      const backup = await runAction({ workspace, env, inputs: { "app-name": "shop", home: "home", storage: accountUrl, container: "oidc-backups", ...signIn } });

      expect(backup.errors).toEqual([]);
      expect(backup.code).toBe(0);
      expect(backup.outputs.status).toBe("Succeeded");
      const name = backup.outputs["backup-name"]!;

      const requests = entra.requests.slice(firstRequest);
      expect(idTokens.issued.length).toBeGreaterThan(1);
      expect(new Set(idTokens.audiences)).toEqual(new Set(["api://AzureADTokenExchange"]));
      // Every access token was asked for with an ID token fetched for it: none reused, none from elsewhere.
      const assertions = requests.map((r) => r.assertion);
      expect(assertions.length).toBeGreaterThan(1);
      expect(new Set(assertions).size).toBe(assertions.length);
      for (const assertion of assertions) expect(idTokens.issued).toContain(assertion);
      for (const request of requests) {
        expect(request).toMatchObject({
          clientId,
          scope: expect.stringContaining("https://storage.azure.com/.default"),
          assertionType: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        });
      }

      const visible = everythingVisible(backup);
      for (const token of [...idTokens.issued, ...entra.issued.map((t) => t.token), idTokens.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN]) {
        expect(visible).not.toContain(token);
      }

      // A container URL without a SAS names the container itself.
      const list = await runAction({ workspace, env, inputs: { operation: "list", "app-name": "shop", storage: `${accountUrl}/oidc-backups`, ...signIn } });
      expect(list.errors).toEqual([]);
      const [listed] = JSON.parse(list.outputs.backups!) as Array<{ name: string; status: string; finishedAt: string }>;
      expect(listed).toMatchObject({ name, status: "Succeeded" });
      // The backup went on after its first access token had expired, so that token could not have been its only one.
      expect(Date.parse(listed!.finishedAt)).toBeGreaterThan(entra.issued[firstIssued]!.expiresAt);
    } finally {
      await idTokens.stop();
    }
  });

  it("says to add `permissions: id-token: write` when the runner issues no ID token, and exits 11 having written nothing", async () => {
    const idTokens = await startIdTokenEndpoint({ refuse: true });
    const granted = await startIdTokenEndpoint();
    try {
      const { workspace } = await makeWorkspace();
      const env = { AZURE_AUTHORITY_HOST: entra.authorityHost, NODE_EXTRA_CA_CERTS: trusted };
      const inputs = { "app-name": "shop", home: "home", storage: `${azurite.accountUrl}/oidc-refused`, ...signIn };
      const run = await runAction({ workspace, env: { ...env, ...idTokens.env }, inputs });
      expect(run.code).toBe(11);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toContain("GitHub did not issue the OIDC token");
      expect(run.errors[0]).toContain("permissions: id-token: write");
      expect(run.summary).toContain("permissions: id-token: write");
      expect(everythingVisible(run)).not.toContain(idTokens.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
      // Signed in, a listing finds that the container was never even created.
      const list = await runAction({ workspace, env: { ...env, ...granted.env }, inputs: { ...inputs, home: "", operation: "list" } });
      expect(list.code).toBe(12);
      expect(list.errors.join("\n")).toContain("ContainerNotFound");
    } finally {
      await granted.stop();
      await idTokens.stop();
    }
  });

  it("says what to check when Entra ID refuses the app registration, and exits 11", async () => {
    const idTokens = await startIdTokenEndpoint();
    try {
      const { workspace } = await makeWorkspace();
      const unknownClient = "11111111-2222-4333-8444-555555555555";
      const run = await runAction({
        workspace,
        env: { ...idTokens.env, AZURE_AUTHORITY_HOST: entra.authorityHost, NODE_EXTRA_CA_CERTS: trusted },
        inputs: { "app-name": "shop", home: "home", storage: `${azurite.accountUrl}/oidc-unknown`, "azure-client-id": unknownClient, "azure-tenant-id": tenantId },
      });
      expect(run.code).toBe(11);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toContain(`Entra ID did not sign in client ${unknownClient} of tenant ${tenantId} with its federated token:`);
      expect(run.errors[0]).toContain("AADSTS700016");
      expect(run.errors[0]).toContain("Check azure-client-id and azure-tenant-id, and that the app registration has a federated credential for this workflow");
      for (const token of idTokens.issued) expect(everythingVisible(run)).not.toContain(token);
    } finally {
      await idTokens.stop();
    }
  });

  it("refuses the sign-in inputs half given, or with storage that carries its own credential", async () => {
    const { workspace } = await makeWorkspace();
    const app = { "app-name": "shop", home: "home" };
    const half = await runAction({ workspace, inputs: { ...app, storage: azurite.accountUrl, container: "x", "azure-client-id": clientId } });
    expect(half.code).toBe(2);
    expect(half.errors[0]).toContain("Input azure-tenant-id is not set, but input azure-client-id is: the OIDC sign-in to Entra ID needs both.");
    const folder = await runAction({ workspace, inputs: { ...app, storage: "file:./backups", ...signIn } });
    expect(folder.code).toBe(2);
    expect(folder.errors[0]).toContain("but the storage is a local folder, which needs no sign-in.");
  });
});
