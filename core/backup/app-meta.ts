import { metaFromOptions, type AppMeta } from "../format/meta.js";
import type { AppBackupOptions } from "../options.js";
import { redactConnectionString } from "../secrets.js";

/**
 * The backup's `meta`: the configuration's settings and connection strings
 * (as declared, `${env:VAR}` kept), and for an App Service app whose resource
 * group and subscription are known, those Azure holds for it, read through
 * Azure Resource Manager as Azure's own backup records them. A connection
 * string's password is masked either way: the backup never holds one.
 */
export async function appMetaOf(options: AppBackupOptions, warn: (message: string) => void): Promise<AppMeta> {
  const meta = metaFromOptions(options, warn);
  const remote = options.app.remote;
  if (remote?.kind !== "app-service" || !remote.address.resourceId) return meta;
  const { readAppServiceSettings } = await import("../home/app-service/app-service-settings.js");
  let read: Awaited<ReturnType<typeof readAppServiceSettings>>;
  try {
    read = await readAppServiceSettings(remote, { ...(remote.credential ? { credential: remote.credential } : {}), ...(remote.armUrl ? { armUrl: remote.armUrl } : {}) });
  } catch (error) {
    warn(`The app's settings and connection strings could not be read through Azure Resource Manager (${(error as Error).message}); the backup's meta holds only those of the configuration.`);
    return meta;
  }
  const connectionStrings = { ...meta.connectionStrings };
  for (const [name, cs] of Object.entries(read.connectionStrings)) connectionStrings[name] = { type: cs.type, value: redactConnectionString(cs.value, cs.type, { keepReferences: true }) };
  return { ...meta, settings: { ...meta.settings, ...read.settings }, connectionStrings };
}
