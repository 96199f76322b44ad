import { AppBackupError } from "../../errors.js";
import { DEFAULT_RETRY, type RemoteTarget, type RetryPolicy, sendWithRetries, serverSaid } from "./http-request.js";

/**
 * An App Service app's app settings and connection strings, through ARM:
 * POST `{site}/config/appsettings/list` and `{site}/config/connectionstrings/list` to
 * read them (a plain GET of the config leaves the values out), PUT
 * `{site}/config/appsettings` and `{site}/config/connectionstrings` to write them. A PUT
 * replaces the whole set: what it does not name is removed from the app, so a caller
 * that means to add one setting reads, changes and writes back.
 *
 * The values are secrets (connection strings above all): they never appear in a message,
 * and what ARM says back is masked of them before it is shown.
 */
export const ARM_URL = "https://management.azure.com";
export const WEB_API_VERSION = "2023-12-01";

/** Azure's ConnectionStringType values, as ARM spells them. */
export const CONNECTION_STRING_TYPES = ["MySql", "SQLServer", "SQLAzure", "Custom", "NotificationHub", "ServiceBus", "EventHub", "ApiHub", "DocDb", "RedisCache", "PostgreSQL"] as const;

export interface ConnectionStringValue {
  value: string;
  type: string;
}

export interface ArmSettingsOptions {
  /** `/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}[/slots/{slot}]` (address.ts). */
  resourceId: string;
  /** An Entra ID token for https://management.azure.com/.default (http-request.ts's tokenGetter). */
  getToken: () => Promise<string>;
  armUrl?: string;
  apiVersion?: string;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
}

export class ArmSettings {
  private readonly target: RemoteTarget;
  private readonly base: string;
  private readonly apiVersion: string;
  private readonly secrets: string[] = [];

  constructor(private readonly options: ArmSettingsOptions) {
    this.base = `${(options.armUrl ?? ARM_URL).replace(/\/+$/, "")}${options.resourceId}`;
    this.apiVersion = options.apiVersion ?? WEB_API_VERSION;
    const getToken = async () => {
      const token = await options.getToken();
      this.remember(token);
      return token;
    };
    this.target = { what: `ARM (${options.resourceId.split("/").slice(-1)[0]})`, auth: { kind: "token", getToken }, retry: { ...DEFAULT_RETRY, ...options.retry }, fetch: options.fetch ?? fetch };
  }

  async listAppSettings(): Promise<Record<string, string>> {
    const properties = await this.call("POST", "appsettings/list", "the app settings");
    const settings: Record<string, string> = {};
    for (const [key, value] of Object.entries(properties)) {
      if (typeof value !== "string") throw this.shapeError("the app settings", `the setting ${JSON.stringify(key)} is not a string`);
      settings[key] = value;
      this.remember(value);
    }
    return settings;
  }

  async listConnectionStrings(): Promise<Record<string, ConnectionStringValue>> {
    const properties = await this.call("POST", "connectionstrings/list", "the connection strings");
    const strings: Record<string, ConnectionStringValue> = {};
    for (const [name, entry] of Object.entries(properties)) {
      const { value, type } = (entry ?? {}) as { value?: unknown; type?: unknown };
      if (typeof value !== "string" || typeof type !== "string") throw this.shapeError("the connection strings", `${JSON.stringify(name)} is not { value, type }`);
      strings[name] = { value, type };
      this.remember(value);
    }
    return strings;
  }

  /** Replaces the app's settings with these (see the module comment). */
  async writeAppSettings(settings: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(settings)) {
      if (typeof value !== "string") throw new AppBackupError("CONFIG_INVALID", `The app setting ${JSON.stringify(key)} is not a string.`, "App settings are strings.");
      this.remember(value);
    }
    await this.call("PUT", "appsettings", "the app settings", { properties: settings });
  }

  /** Replaces the app's connection strings with these (see the module comment). */
  async writeConnectionStrings(strings: Record<string, ConnectionStringValue>): Promise<void> {
    for (const [name, { value, type }] of Object.entries(strings)) {
      if (!(CONNECTION_STRING_TYPES as readonly string[]).includes(type)) {
        throw new AppBackupError("CONFIG_INVALID", `The connection string ${JSON.stringify(name)} has the type ${JSON.stringify(type)}, which Azure does not know.`, `Use one of ${CONNECTION_STRING_TYPES.join(", ")}.`);
      }
      this.remember(value);
    }
    await this.call("PUT", "connectionstrings", "the connection strings", { properties: strings });
  }

  private remember(secret: string): void {
    if (secret.length >= 4 && !this.secrets.includes(secret)) this.secrets.push(secret);
  }

  private async call(method: "POST" | "PUT", config: string, what: string, body?: object): Promise<Record<string, unknown>> {
    const url = new URL(`${this.base}/config/${config}`);
    url.searchParams.set("api-version", this.apiVersion);
    const response = await sendWithRetries(this.target, {
      method,
      url,
      headers: { "content-type": "application/json", accept: "application/json" },
      ...(body ? { body: JSON.stringify(body) } : { body: "" }),
    });
    if (response.status < 200 || response.status >= 300) throw await this.failure(method, what, response);
    const payload = (await response.json().catch(() => undefined)) as { properties?: unknown } | undefined;
    const properties = payload?.properties;
    if (!properties || typeof properties !== "object" || Array.isArray(properties)) throw this.shapeError(what, "the answer has no properties object");
    return properties as Record<string, unknown>;
  }

  private async failure(method: string, what: string, response: Response): Promise<AppBackupError> {
    const status = response.status;
    const said = await serverSaid(response, this.secrets);
    const detail = said ? ` It said: ${said}` : "";
    const doing = `${method === "PUT" ? "write" : "read"} ${what} of ${this.options.resourceId}`;
    if (status === 401) {
      return new AppBackupError("HOME_REFUSED", `ARM refused the sign-in (401) to ${doing}.${detail}`, "Sign in again (`az login`, a managed identity or AZURE_* variables); the token must be for https://management.azure.com/.default.");
    }
    if (status === 403) {
      return new AppBackupError(
        "HOME_REFUSED",
        `ARM did not allow the identity to ${doing} (403).${detail}`,
        "Reading settings needs Microsoft.Web/sites/config/list/action, writing them Microsoft.Web/sites/config/write: give the identity Website Contributor (or Contributor) on the app.",
      );
    }
    if (status === 404) {
      return new AppBackupError("HOME_MISSING", `ARM found no such app to ${doing} (404).${detail}`, "Check the app's name, resource group, slot and subscription (`az webapp show --name NAME --resource-group GROUP`).");
    }
    if (status === 429 || status >= 500) {
      return new AppBackupError("HOME_UNREACHABLE", `ARM kept answering ${status} to ${doing} after ${this.target.retry.attempts} attempts.${detail}`, "ARM is throttling or busy; run again later.");
    }
    return new AppBackupError("HOME_UNREACHABLE", `ARM answered ${status} to ${doing}.${detail}`, method === "PUT" ? "Check the values' form (names, connection string types)." : "Check the api-version and the resource id.");
  }

  private shapeError(what: string, problem: string): AppBackupError {
    return new AppBackupError("HOME_UNREACHABLE", `ARM's answer for ${what} of ${this.options.resourceId} is not in the expected form: ${problem}.`, "Check that armUrl is Azure Resource Manager's endpoint.");
  }
}
