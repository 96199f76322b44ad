import {
  AppBackupError,
  federatedCredential,
  storageStringForm,
  type AppBackupOptions,
  type StorageSpec,
  type TokenCredential,
} from "../../core/index.js";
import type { ActionInputs, AzureSignInInputs } from "./inputs.js";

/** The audience Entra ID accepts a federated GitHub token for. */
export const entraTokenAudience = "api://AzureADTokenExchange";

export interface GitHubOidc {
  /** `core.getIDToken`: asks the runner for a fresh ID token of that audience. */
  getIdToken(audience: string): Promise<string>;
  /** Told each ID token obtained, to keep it out of everything printed. */
  onToken(token: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * The app registration's sign-in through GitHub's OIDC token: each time the
 * storage needs an access token, a fresh ID token is asked for and exchanged,
 * so a run longer than one ID token's lifetime (minutes) keeps working.
 */
export function gitHubOidcCredential(signIn: AzureSignInInputs, oidc: GitHubOidc): TokenCredential {
  return federatedCredential({
    tenantId: signIn.tenantId,
    clientId: signIn.clientId,
    authorityHost: oidc.env.AZURE_AUTHORITY_HOST || undefined,
    async getAssertion() {
      let token: string;
      try {
        token = await oidc.getIdToken(entraTokenAudience);
      } catch (error) {
        const reason = ((error as Error)?.message ?? String(error)).replace(/^Error message:\s*/, "").replace(/\s+/g, " ").trim();
        throw new AppBackupError(
          "STORAGE_AUTH",
          `GitHub did not issue the OIDC token that signing in to Entra ID with azure-client-id and azure-tenant-id needs: ${reason}`,
          "Add `permissions: id-token: write` to the job (and `contents: read` if it checks the repository out): without it a step cannot ask GitHub for an ID token.",
        );
      }
      oidc.onToken(token);
      return token;
    },
    refusedHint:
      "Check azure-client-id and azure-tenant-id, and that the app registration has a federated credential for this workflow " +
      "(issuer https://token.actions.githubusercontent.com, subject such as repo:OWNER/REPO:ref:refs/heads/main or repo:OWNER/REPO:environment:NAME, " +
      `audience ${entraTokenAudience}); it needs the Storage Blob Data Contributor role on the container.`,
  });
}

/**
 * Inline inputs with the OIDC sign-in may name the container in the storage URL
 * itself (`https://ACCOUNT.blob.core.windows.net/CONTAINER`, no SAS) rather than
 * in input container.
 */
export function withContainerFromStorageUrl(inputs: ActionInputs): ActionInputs {
  const { storage, container } = inputs.app;
  if (!inputs.azureSignIn || !storage || container || storageStringForm(storage) !== "account-url") return inputs;
  const parts = accountAndContainer(storage);
  return parts ? { ...inputs, app: { ...inputs.app, storage: parts.accountUrl, container: parts.container } } : inputs;
}

/**
 * The options with their Azure storage signed in as the app registration of
 * inputs azure-client-id and azure-tenant-id (unchanged without them); other
 * storage refuses the sign-in inputs.
 */
export function signedInOptions(options: AppBackupOptions, signIn: AzureSignInInputs | undefined, oidc: GitHubOidc): AppBackupOptions {
  if (!signIn) return options;
  const credential = gitHubOidcCredential(signIn, oidc);
  // An App Service home without publishing credentials signs in the same way.
  const remote = options.app.remote;
  const app = remote?.kind === "app-service" && !remote.publishingPassword ? { ...options.app, remote: { ...remote, credential } } : options.app;
  return { ...options, app, backup: { ...options.backup, storage: signedInStorage(options.backup.storage, credential) } };
}

function signedInStorage(storage: StorageSpec, credential: TokenCredential): StorageSpec {
  if (storage.kind === "azure-identity") return { ...storage, credential };
  // A container URL without a SAS (from a config file) is a container to sign in to.
  const parts = storage.kind === "azure-sas" && !/[?&]sig=/i.test(storage.containerUrl) ? accountAndContainer(storage.containerUrl) : undefined;
  if (parts) return { kind: "azure-identity", ...parts, credential };
  const carried = { local: "a local folder", "azure-sas": "a container SAS URL", "azure-connection-string": "a connection string" }[storage.kind];
  throw new AppBackupError(
    "USAGE",
    `Inputs azure-client-id and azure-tenant-id sign in to Azure Storage through Entra ID, but the storage is ${carried}, which needs no sign-in.`,
    "Remove azure-client-id and azure-tenant-id, or set storage to the account URL (https://ACCOUNT.blob.core.windows.net) with container, or to a container URL without a SAS.",
  );
}

/** A container URL split into its account URL and container: the container is the last path segment. */
export function accountAndContainer(url: string): { accountUrl: string; container: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.search || parsed.hash) return undefined;
  const segments = parsed.pathname.split("/").filter(Boolean);
  const container = segments.pop();
  if (!container) return undefined;
  return { accountUrl: [parsed.origin, ...segments].join("/"), container: decodeURIComponent(container) };
}
