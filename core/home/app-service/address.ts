import { AppBackupError } from "../../errors.js";

/**
 * An App Service app as a home, as written in the configuration:
 * `home: { appService: contoso, resourceGroup: web, subscription: GUID, slot?: staging }`,
 * or `home: { appService: "https://contoso.scm.azurewebsites.net/" }` (any https SCM URL:
 * apps created with a unique default hostname have an SCM host like
 * `contoso-a6gqaeashthkhkeu.scm.westeurope-01.azurewebsites.net` that cannot be derived
 * from the name, and sovereign clouds have their own domains). With the URL, giving
 * `resourceGroup` and `subscription` too lets the settings be read through ARM.
 */
export interface AppServiceHomeInput {
  /** The app's name, or the https URL of its SCM (Kudu) site. */
  appService: string;
  resourceGroup?: string;
  subscription?: string;
  /** A deployment slot (`staging`); the production slot when absent. */
  slot?: string;
}

export interface AppServiceAddress {
  /** The app's name: as given, or the SCM host's first label for a URL. */
  name: string;
  slot?: string;
  /** Base URL of the SCM site, ending with `/`: `https://contoso.scm.azurewebsites.net/`. */
  scmUrl: string;
  /**
   * ARM id of the site (or slot):
   * `/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}[/slots/{slot}]`;
   * absent for an SCM URL given without its resource group and subscription.
   */
  resourceId?: string;
}

/** Public Azure's SCM domain; a name alone is addressed there. */
const SCM_DOMAIN = "scm.azurewebsites.net";

// App Service names: 2-60 letters, digits and hyphens, starting and ending with a letter or digit.
const APP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])$/;
// Slots: letters, digits and hyphens; the slot's host label is `{app}-{slot}`, at most 63 characters as any DNS label.
const SLOT_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
// Resource groups: 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending with a period.
const RESOURCE_GROUP = /^[-\p{L}\p{N}_.()]{1,90}$/u;
const SUBSCRIPTION = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Checks the home's form and returns where its SCM site and ARM resource are; `key` is where it was configured. */
export function appServiceAddress(input: AppServiceHomeInput | string, key = "home"): AppServiceAddress {
  const home = typeof input === "string" ? { appService: input } : input;
  const problem = (at: string, message: string, hint: string): never => {
    throw new AppBackupError("CONFIG_INVALID", `${key}.${at}: ${message}`, hint, { issues: [{ path: `${key}.${at}`, message }] });
  };
  if (typeof home.appService !== "string" || home.appService.trim() === "") {
    return problem("appService", "is required: the app's name or its SCM site's https URL", "Write `appService: contoso` with `resourceGroup` and `subscription`, or the SCM URL `https://contoso.scm.azurewebsites.net/`.");
  }
  const slot = home.slot === undefined ? undefined : checkedSlot(home.slot, problem);
  const { resourceGroup, subscription } = home;
  if (resourceGroup !== undefined && !(typeof resourceGroup === "string" && RESOURCE_GROUP.test(resourceGroup) && !resourceGroup.endsWith("."))) {
    problem("resourceGroup", `${JSON.stringify(resourceGroup)} is not a resource group name`, "A resource group name has 1 to 90 letters, digits, underscores, hyphens, periods or parentheses, and does not end with a period.");
  }
  if (subscription !== undefined && !(typeof subscription === "string" && SUBSCRIPTION.test(subscription))) {
    problem("subscription", `${JSON.stringify(subscription)} is not a subscription id`, "Give the subscription's id, a GUID like 00000000-0000-0000-0000-000000000000 (`az account show --query id`).");
  }

  const value = home.appService.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    if ((resourceGroup === undefined) !== (subscription === undefined)) {
      const missing = resourceGroup === undefined ? "resourceGroup" : "subscription";
      problem(missing, "is needed with the other one: the app's settings are read through ARM with both", "Give both `resourceGroup` and `subscription`, or neither (then only the files are backed up).");
    }
    if (slot !== undefined) problem("slot", "cannot be given with an SCM URL: a slot has its own SCM site", "Give the slot's SCM URL (`https://contoso-staging.scm.azurewebsites.net/`) instead.");
    const url = checkedScmUrl(value, problem);
    const name = url.hostname.split(".")[0]!;
    const resourceId = resourceGroup !== undefined && subscription !== undefined ? siteResourceId(subscription, resourceGroup, name, undefined) : undefined;
    return { name, scmUrl: url.href, ...(resourceId ? { resourceId } : {}) };
  }

  if (!APP_NAME.test(value)) {
    problem(
      "appService",
      `${JSON.stringify(value)} is not an App Service app name`,
      "An app's name has 2 to 60 letters, digits and hyphens and starts and ends with a letter or digit; or give the SCM site's https URL.",
    );
  }
  if (resourceGroup === undefined) problem("resourceGroup", "is required with an app's name", "Give the app's resource group (`az webapp show --name NAME --query resourceGroup`).");
  if (subscription === undefined) problem("subscription", "is required with an app's name", "Give the subscription's id (`az account show --query id`).");
  if (slot !== undefined && value.length + 1 + slot.length > 63) {
    problem("slot", `"${value}-${slot}" is longer than 63 characters, the most a host name's label holds`, "Give the slot's SCM URL as `appService` instead (the portal shows it under Advanced Tools).");
  }
  const host = slot ? `${value}-${slot}` : value;
  return {
    name: value,
    ...(slot ? { slot } : {}),
    scmUrl: `https://${host.toLowerCase()}.${SCM_DOMAIN}/`,
    resourceId: siteResourceId(subscription!, resourceGroup!, value, slot),
  };
}

function siteResourceId(subscription: string, resourceGroup: string, name: string, slot: string | undefined): string {
  const site = `/subscriptions/${subscription.toLowerCase()}/resourceGroups/${resourceGroup}/providers/Microsoft.Web/sites/${name}`;
  return slot ? `${site}/slots/${slot}` : site;
}

function checkedSlot(slot: unknown, problem: (at: string, message: string, hint: string) => never): string {
  if (typeof slot !== "string" || !SLOT_NAME.test(slot) || slot.toLowerCase() === "production") {
    const why = slot === "production" ? "is the production slot, which is the app itself" : `${JSON.stringify(slot)} is not a slot name`;
    return problem("slot", why, "A slot's name has letters, digits and hyphens (`staging`); leave `slot` out for the production slot.");
  }
  return slot;
}

function checkedScmUrl(value: string, problem: (at: string, message: string, hint: string) => never): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem("appService", `${JSON.stringify(value)} is not a URL`, "Give the SCM site's URL, like https://contoso.scm.azurewebsites.net/.");
  }
  // Never echo credentials written into the URL.
  if (url.username || url.password) {
    return problem("appService", "the SCM URL must not contain a user name or password", "Remove them from the URL and give the publishing credentials under `credentials`, as `${env:VAR}` references.");
  }
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    return problem("appService", `${JSON.stringify(shown)} is not an https URL`, "Kudu is only served over https: write https://NAME.scm.azurewebsites.net/.");
  }
  if (url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
    return problem("appService", `${JSON.stringify(shown)} has a path, query or fragment`, "Give the SCM site's root, like https://contoso.scm.azurewebsites.net/, without /api/... or anything after it.");
  }
  const label = url.hostname.split(".")[0]!;
  if (!LOOPBACK.has(url.hostname) && !/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(label)) {
    return problem("appService", `${JSON.stringify(url.hostname)} does not start with an app's name`, "Give the SCM site's URL as the portal shows it under Advanced Tools.");
  }
  return new URL(`${url.protocol}//${url.host}/`);
}
