import type { TokenCredential } from "../store/azure-credential.js";
import type { AppServiceAddress } from "./app-service/address.js";
import type { SftpHomeOptions } from "./sftp/connection.js";

/** How a remote home is reached, as the configuration gave it (secrets resolved from `${env:}`, never logged). */
export type RemoteHomeSpec = SftpHomeSpec | AppServiceHomeSpec;

/** The address and login of an `sftp://` home (see SftpHomeOptions: key text or file, passphrase, password, known_hosts). */
export interface SftpHomeSpec extends Omit<SftpHomeOptions, "readyTimeoutMs"> {
  kind: "sftp";
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
