import type { TokenCredential } from "@azure/identity";
import { AppBackupError } from "../../errors.js";
import type { AppServiceHomeSpec } from "../remote-home.js";
import { ArmSettings, type ConnectionStringValue } from "./arm-settings.js";
import { entraCredential } from "./app-service-auth.js";
import { tokenGetter } from "./http-request.js";

export interface AppServiceSettings {
  settings: Record<string, string>;
  connectionStrings: Record<string, ConnectionStringValue>;
}

export interface AppServiceSettingsOptions {
  /** An Entra ID credential; DefaultAzureCredential by default (publishing credentials do not reach ARM). */
  credential?: TokenCredential;
  fetch?: typeof fetch;
  /** Azure Resource Manager's endpoint, for sovereign clouds and tests. */
  armUrl?: string;
}

/** The app's settings and connection strings, as ARM holds them (values are secrets: never log them). */
export async function readAppServiceSettings(spec: AppServiceHomeSpec, options: AppServiceSettingsOptions = {}): Promise<AppServiceSettings> {
  const arm = await armSettingsOf(spec, options, "read");
  const settings = await arm.listAppSettings();
  const connectionStrings = await arm.listConnectionStrings();
  return { settings, connectionStrings };
}

/**
 * Replaces the app's settings and/or connection strings with these (ARM's PUT replaces
 * the whole set: what is not given is removed from the app). Either may be left out to
 * leave that set as it is.
 */
export async function writeAppServiceSettings(spec: AppServiceHomeSpec, values: Partial<AppServiceSettings>, options: AppServiceSettingsOptions = {}): Promise<void> {
  const arm = await armSettingsOf(spec, options, "write");
  if (values.settings) await arm.writeAppSettings(values.settings);
  if (values.connectionStrings) await arm.writeConnectionStrings(values.connectionStrings);
}

async function armSettingsOf(spec: AppServiceHomeSpec, options: AppServiceSettingsOptions, doing: "read" | "write"): Promise<ArmSettings> {
  const resourceId = spec.address.resourceId;
  if (!resourceId) {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `The settings of ${spec.address.name} cannot be ${doing === "read" ? "read" : "written"}: the home is given by its SCM URL alone, and Azure Resource Manager needs the app's resource group and subscription.`,
      "Add `resourceGroup` and `subscription` to `home` (`az webapp show --name NAME --query \"{resourceGroup: resourceGroup, subscription: id}\"`).",
    );
  }
  const credential = options.credential ?? (await entraCredential());
  return new ArmSettings({ resourceId, getToken: tokenGetter(credential), ...(options.armUrl ? { armUrl: options.armUrl } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
}
