import type { TokenCredential } from "@azure/identity";
import { AppBackupError } from "../../errors.js";
import type { AppServiceHomeSpec } from "../remote-home.js";
import { type RemoteAuth, tokenGetter } from "./http-request.js";

/** DefaultAzureCredential, loaded only when a run signs in with Entra ID: the package is large and most runs never need it. */
export async function entraCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential();
}

/** How Kudu is signed in to: the publishing credentials when given, else an Entra ID token. */
export async function kuduAuth(spec: AppServiceHomeSpec, credential: TokenCredential | undefined): Promise<RemoteAuth> {
  const { publishingUser: user, publishingPassword: password } = spec;
  if (user !== undefined || password !== undefined) {
    if (!user || !password) {
      const missing = user ? "publishingPassword" : "publishingUser";
      throw new AppBackupError(
        "CONFIG_INVALID",
        `home.${missing} is needed with the other publishing credential.`,
        "Give both the publishing user (`$app`) and its password, as ${env:VAR} references, or neither to sign in with Entra ID.",
      );
    }
    return { kind: "basic", user, password };
  }
  return { kind: "token", getToken: tokenGetter(credential ?? (await entraCredential())) };
}
