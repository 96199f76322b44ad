import type { TokenCredential } from "@azure/identity";
import { remoteHomeAccess, type RemoteHomeAccess } from "../remote-access.js";
import type { AppServiceHomeSpec } from "../remote-home.js";
import { kuduAuth } from "./app-service-auth.js";
import { AppServiceHomeReader } from "./app-service-reader.js";
import { AppServiceRestoreTarget } from "./app-service-restore.js";
import type { RetryPolicy } from "./http-request.js";
import { KuduClient } from "./kudu-client.js";

export { readAppServiceSettings, writeAppServiceSettings, type AppServiceSettings, type AppServiceSettingsOptions } from "./app-service-settings.js";

export interface AppServiceHomeOptions {
  fetch?: typeof fetch;
  /** An Entra ID credential when no publishing credentials are given; DefaultAzureCredential by default. */
  credential?: TokenCredential;
  retry?: Partial<RetryPolicy>;
}

/** The app's home as both a backup reads it and a restore writes it. */
export type AppServiceHomeAccess = RemoteHomeAccess;

/**
 * An App Service app's home through Kudu (see app-service-reader.ts and
 * app-service-restore.ts), signed in with the publishing credentials when the
 * spec has them, else with Entra ID. Nothing is asked of the app until it is used.
 */
export async function openAppServiceHomeAccess(
  spec: AppServiceHomeSpec,
  events: { warning?(message: string): void },
  options: AppServiceHomeOptions = {},
): Promise<AppServiceHomeAccess> {
  const client = new KuduClient({
    scmUrl: spec.address.scmUrl,
    auth: await kuduAuth(spec, options.credential ?? spec.credential),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const description = describeAppService(spec);
  const reader = new AppServiceHomeReader(client, description);
  const target = new AppServiceRestoreTarget(client, description, (message) => events.warning?.(message));
  return remoteHomeAccess(description, reader, target, async () => {
    await reader.close();
    await target.close();
  });
}

/** "App Service app contoso (contoso.scm.azurewebsites.net)": no credential ever appears in it. */
export function describeAppService(spec: AppServiceHomeSpec): string {
  const { name, slot, scmUrl } = spec.address;
  return `App Service app ${name}${slot ? ` (slot ${slot})` : ""} at ${new URL(scmUrl).host}`;
}
