import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { AppBackupError } from "../errors.js";
import { redactPatterns } from "../secrets.js";

export type { TokenCredential };

/**
 * The Entra ID credentials a store signs in with. Each is a plain object whose
 * only property is `getToken`: the SDK credential behind it (and the tokens its
 * cache holds) stays in a closure, so printing or serialising the options that
 * carry it shows nothing. `@azure/identity` is loaded on the first token asked
 * for, never by a store that does not use Entra ID.
 */
function lazyCredential(create: (identity: typeof import("@azure/identity")) => TokenCredential): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  const load = () => (credential ??= import("@azure/identity").then(create));
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      return (await load()).getToken(scopes, options);
    },
  };
}

/** DefaultAzureCredential: `az login`, a managed identity, or AZURE_* variables; what the CLI and the provider use. */
export function defaultCredential(): TokenCredential {
  return lazyCredential((identity) => new identity.DefaultAzureCredential());
}

export interface FederatedCredentialOptions {
  tenantId: string;
  clientId: string;
  /**
   * Returns a federated token (a workload identity's ID token) to exchange for an
   * access token. Called each time an access token is needed, so a run that
   * outlives one federated token keeps signing in. An AppBackupError it throws
   * is what the run fails with: it knows best what the user must change.
   */
  getAssertion: () => Promise<string>;
  /** Entra ID's host when not the public cloud's (`AZURE_AUTHORITY_HOST`). */
  authorityHost?: string;
  /** What to check when Entra ID refuses the sign-in, in the front end's own terms. */
  refusedHint?: string;
}

/**
 * An app registration's sign-in through a federated token (workload identity
 * federation), exchanged by `ClientAssertionCredential` as a client assertion.
 */
export function federatedCredential({ tenantId, clientId, getAssertion, authorityHost, refusedHint }: FederatedCredentialOptions): TokenCredential {
  // The SDK wraps whatever the assertion callback throws; the callback's own error is kept here to be rethrown whole.
  let assertionFailure: unknown;
  const assertion = async () => {
    assertionFailure = undefined;
    try {
      return await getAssertion();
    } catch (error) {
      assertionFailure = error;
      throw error;
    }
  };
  const credential = lazyCredential(
    (identity) =>
      new identity.ClientAssertionCredential(tenantId, clientId, assertion, {
        authorityHost,
        // An authority given by name (a sovereign cloud, Azure Stack) is trusted as given, not
        // checked against the public cloud's instance discovery, which it may not be able to reach.
        disableInstanceDiscovery: authorityHost !== undefined,
      }),
  );
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        if (assertionFailure instanceof AppBackupError) throw assertionFailure;
        const reason = redactPatterns(((error as Error)?.message ?? String(error)).split("\n")[0]!.trim());
        throw new AppBackupError(
          "STORAGE_AUTH",
          `Entra ID did not sign in client ${clientId} of tenant ${tenantId} with its federated token: ${reason}`,
          refusedHint ??
            "Check the client and tenant IDs, and that the app registration has a federated credential matching the token's issuer, subject and audience; the identity needs the Storage Blob Data Contributor role on the container.",
        );
      }
    },
  };
}
