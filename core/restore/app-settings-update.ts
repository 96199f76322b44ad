import { AppBackupError } from "../errors.js";
import type { AppMeta } from "../format/meta.js";
import type { AppServiceHomeSpec } from "../home/remote-home.js";
import type { ConfigUpdate } from "./config-update.js";

/**
 * The backup's app settings and/or connection strings written back to an App
 * Service app through Azure Resource Manager, as Azure's own restore replaces
 * the site's configuration. ARM replaces a whole set at once: a connection
 * string the backup holds with its password masked keeps the app's current
 * value rather than being lost. Values are written, never printed.
 */
export function prepareAppSettingsUpdate(spec: AppServiceHomeSpec, meta: AppMeta, parts: { settings: boolean; connectionStrings: boolean }): ConfigUpdate {
  const where = `the App Service app ${spec.address.name} (through Azure Resource Manager)`;
  if (!spec.address.resourceId && (parts.settings || parts.connectionStrings)) {
    // Before anything changes: a restore that cannot do all it was asked does nothing.
    throw new AppBackupError(
      "USAGE",
      `The settings of ${spec.address.name} cannot be restored: the home is given by its SCM URL alone, and Azure Resource Manager needs the app's resource group and subscription.`,
      "Add `resourceGroup` and `subscription` to `home`, or restore without --restore-settings and --adjust-connection-strings.",
    );
  }
  const masked = parts.connectionStrings ? Object.keys(meta.connectionStrings).filter((name) => meta.connectionStrings[name]!.value.includes("***")) : [];
  const update: ConfigUpdate = {
    configPath: where,
    settings: parts.settings ? Object.keys(meta.settings) : [],
    connectionStrings: parts.connectionStrings ? Object.keys(meta.connectionStrings).filter((name) => !masked.includes(name)) : [],
    warnings: masked.map((name) => `Connection string ${name} was stored in the backup with its password masked (***); the app's current value of it is kept.`),
  };
  if (!parts.settings && !parts.connectionStrings) return update;
  update.apply = async () => {
    const { readAppServiceSettings, writeAppServiceSettings } = await import("../home/app-service/app-service-settings.js");
    const options = { ...(spec.credential ? { credential: spec.credential } : {}), ...(spec.armUrl ? { armUrl: spec.armUrl } : {}) };
    let connectionStrings: Record<string, { value: string; type: string }> | undefined;
    if (parts.connectionStrings) {
      const current = masked.length ? (await readAppServiceSettings(spec, options)).connectionStrings : {};
      connectionStrings = {};
      for (const [name, cs] of Object.entries(meta.connectionStrings)) {
        const value = masked.includes(name) ? current[name] : { value: cs.value, type: cs.type };
        if (value) connectionStrings[name] = value;
      }
    }
    await writeAppServiceSettings(spec, { ...(parts.settings ? { settings: { ...meta.settings } } : {}), ...(connectionStrings ? { connectionStrings } : {}) }, options);
  };
  return update;
}
