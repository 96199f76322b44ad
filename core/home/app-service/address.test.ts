import { describe, expect, it } from "vitest";
import { appServiceAddress } from "./address.js";
import { thrownAppBackupError as failure } from "../../../test/support/app-backup-error.js";

const subscription = "6f1c2b0e-4a5d-4c8e-9f10-2b3c4d5e6f70";

describe("appServiceAddress", () => {
  it("addresses an app by name: its SCM site in public Azure and its ARM resource id", () => {
    expect(appServiceAddress({ appService: "Contoso-Shop", resourceGroup: "web-prod", subscription })).toEqual({
      name: "Contoso-Shop",
      scmUrl: "https://contoso-shop.scm.azurewebsites.net/",
      resourceId: `/subscriptions/${subscription}/resourceGroups/web-prod/providers/Microsoft.Web/sites/Contoso-Shop`,
    });
  });

  it("addresses a slot: its own SCM host and the slot's resource id", () => {
    expect(appServiceAddress({ appService: "contoso", resourceGroup: "web", subscription, slot: "staging" })).toEqual({
      name: "contoso",
      slot: "staging",
      scmUrl: "https://contoso-staging.scm.azurewebsites.net/",
      resourceId: `/subscriptions/${subscription}/resourceGroups/web/providers/Microsoft.Web/sites/contoso/slots/staging`,
    });
  });

  it.each([
    ["https://contoso.scm.azurewebsites.net", "contoso", "https://contoso.scm.azurewebsites.net/"],
    ["https://contoso.scm.azurewebsites.net/", "contoso", "https://contoso.scm.azurewebsites.net/"],
    ["https://contoso-a6gqaeashthkhkeu.scm.westeurope-01.azurewebsites.net/", "contoso-a6gqaeashthkhkeu", "https://contoso-a6gqaeashthkhkeu.scm.westeurope-01.azurewebsites.net/"],
    ["https://contoso.scm.azurewebsites.us/", "contoso", "https://contoso.scm.azurewebsites.us/"],
    ["https://contoso.scm.ase-internal.appserviceenvironment.net/", "contoso", "https://contoso.scm.ase-internal.appserviceenvironment.net/"],
  ])("takes the SCM URL %s as it is", (url, name, scmUrl) => {
    expect(appServiceAddress(url)).toEqual({ name, scmUrl });
  });

  it("adds the resource id to an SCM URL given with its group and subscription", () => {
    expect(appServiceAddress({ appService: "https://contoso.scm.azurewebsites.net/", resourceGroup: "web", subscription }).resourceId).toBe(
      `/subscriptions/${subscription}/resourceGroups/web/providers/Microsoft.Web/sites/contoso`,
    );
  });

  it.each([
    ["a", "is not an App Service app name"],
    ["-contoso", "is not an App Service app name"],
    ["contoso-", "is not an App Service app name"],
    ["con_toso", "is not an App Service app name"],
    ["c".repeat(61), "is not an App Service app name"],
  ])("refuses the app name %j", (appService, message) => {
    const error = failure(() => appServiceAddress({ appService, resourceGroup: "web", subscription }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain(message);
    expect(error.issues).toEqual([{ path: "home.appService", message: expect.stringContaining(message) }]);
    expect(error.hint).toMatch(/2 to 60 letters, digits and hyphens/);
  });

  it("accepts the longest and shortest app names", () => {
    expect(appServiceAddress({ appService: "c".repeat(60), resourceGroup: "web", subscription }).name).toHaveLength(60);
    expect(appServiceAddress({ appService: "ab", resourceGroup: "web", subscription }).name).toBe("ab");
  });

  it("needs the resource group and the subscription with a name, and says how to find them", () => {
    expect(failure(() => appServiceAddress({ appService: "contoso", subscription })).message).toBe("home.resourceGroup: is required with an app's name");
    const error = failure(() => appServiceAddress({ appService: "contoso", resourceGroup: "web" }));
    expect(error.message).toBe("home.subscription: is required with an app's name");
    expect(error.hint).toContain("az account show");
  });

  it.each([
    [{ resourceGroup: "web.", subscription }, "home.resourceGroup"],
    [{ resourceGroup: "w".repeat(91), subscription }, "home.resourceGroup"],
    [{ resourceGroup: "web/prod", subscription }, "home.resourceGroup"],
    [{ resourceGroup: "web", subscription: "not-a-guid" }, "home.subscription"],
    [{ resourceGroup: "web", subscription, slot: "stag ing" }, "home.slot"],
    [{ resourceGroup: "web", subscription, slot: "production" }, "home.slot"],
  ])("refuses %j at its key", (fields, at) => {
    const error = failure(() => appServiceAddress({ appService: "contoso", ...fields }));
    expect(error.issues?.[0]?.path).toBe(at);
  });

  it("accepts resource group names with periods, parentheses and letters beyond ASCII", () => {
    expect(appServiceAddress({ appService: "contoso", resourceGroup: "Web.Prod_(EU)-é", subscription }).resourceId).toContain("/resourceGroups/Web.Prod_(EU)-é/");
  });

  it.each([
    ["http://contoso.scm.azurewebsites.net/", "is not an https URL"],
    ["https://contoso.scm.azurewebsites.net/api/zip/site/wwwroot/", "has a path, query or fragment"],
    ["https://contoso.scm.azurewebsites.net/?x=1", "has a path, query or fragment"],
    ["ftp://contoso.scm.azurewebsites.net/", "is not an https URL"],
  ])("refuses the SCM URL %s", (url, message) => {
    expect(failure(() => appServiceAddress({ appService: url })).message).toContain(message);
  });

  it("refuses credentials written into the SCM URL without repeating them", () => {
    const error = failure(() => appServiceAddress("https://$contoso:Sup3rSecretPassw0rd@contoso.scm.azurewebsites.net/"));
    expect(error.describe()).not.toContain("Sup3rSecretPassw0rd");
    expect(error.message).toContain("must not contain a user name or password");
  });

  it("refuses a slot with an SCM URL, and a group without its subscription", () => {
    expect(failure(() => appServiceAddress({ appService: "https://contoso.scm.azurewebsites.net/", slot: "staging" })).issues?.[0]?.path).toBe("home.slot");
    expect(failure(() => appServiceAddress({ appService: "https://contoso.scm.azurewebsites.net/", resourceGroup: "web" })).issues?.[0]?.path).toBe("home.subscription");
  });

  it("takes a loopback http URL (a local stand-in) and names errors at the key it is given", () => {
    expect(appServiceAddress("http://127.0.0.1:8123/").scmUrl).toBe("http://127.0.0.1:8123/");
    expect(failure(() => appServiceAddress({ appService: "" }, "targets[0].home")).issues?.[0]?.path).toBe("targets[0].home.appService");
  });

  it("refuses a slot whose host label would pass 63 characters", () => {
    expect(failure(() => appServiceAddress({ appService: "c".repeat(55), resourceGroup: "web", subscription, slot: "staging-eu" })).message).toMatch(/longer than 63/);
  });
});
