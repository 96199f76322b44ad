import type { TokenCredential } from "../store/azure-credential.js";
import type { AppServiceAddress } from "./app-service/address.js";
import type { SftpAddress } from "./sftp/address.js";

/** How a remote home is reached, as the configuration gave it (secrets resolved from `${env:}`, never logged). */
export type RemoteHomeSpec = SftpHomeSpec | AppServiceHomeSpec;

export interface SftpHomeSpec {
  kind: "sftp";
  address: SftpAddress;
  /** The private key's text. */
  privateKey?: string;
  /** A private key file; `~/` is the user's home. */
  privateKeyFile?: string;
  passphrase?: string;
  /** Allowed, with a warning: a key is safer. */
  password?: string;
  /** An OpenSSH known_hosts file; default ~/.ssh/known_hosts. Host keys are always checked. */
  knownHosts?: string;
}

export interface AppServiceHomeSpec {
  kind: "app-service";
  address: AppServiceAddress;
  /** The app's publishing (deployment) credentials; without them, Entra ID (`DefaultAzureCredential`) is used. */
  publishingUser?: string;
  publishingPassword?: string;
  /** Azure Resource Manager's endpoint, for the settings; default https://management.azure.com (another in sovereign clouds). */
  armUrl?: string;
  /** Signs in to Entra ID when there are no publishing credentials (the Action's OIDC sign-in); default DefaultAzureCredential. */
  credential?: TokenCredential;
}
