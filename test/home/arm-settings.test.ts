import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppBackupError } from "../../core/errors.js";
import { appServiceAddress } from "../../core/home/app-service/address.js";
import { ArmSettings } from "../../core/home/app-service/arm-settings.js";
import { type KuduStandIn, startKuduStandIn } from "../support/kudu-stand-in.js";

const token = "arm-token-5d1f0c2e9a7b";
const subscription = "6f1c2b0e-4a5d-4c8e-9f10-2b3c4d5e6f70";
const mainDb = "Host=db.contoso.net;Database=shop;Username=app;Password=Db-Secret-8e21f";
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2000 };

async function failure(promise: Promise<unknown>): Promise<AppBackupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppBackupError);
    return error as AppBackupError;
  }
  throw new Error("expected a failure");
}

describe("ArmSettings against the ARM stand-in", () => {
  let standIn: KuduStandIn;
  let arm: ArmSettings;
  let resourceId: string;

  beforeAll(async () => {
    standIn = await startKuduStandIn({
      credentials: { user: "$contoso", password: "unused-password" },
      token,
      site: { subscription, resourceGroup: "web", name: "contoso" },
      settings: { WEBSITE_TIME_ZONE: "UTC", API_KEY: "Api-Key-Value-42x" },
      connectionStrings: { MainDb: { value: mainDb, type: "PostgreSQL" } },
    });
    resourceId = appServiceAddress({ appService: "contoso", resourceGroup: "web", subscription }).resourceId!;
    arm = new ArmSettings({ resourceId, getToken: async () => token, armUrl: standIn.armUrl, retry: fast });
  });

  afterAll(async () => {
    await standIn.stop();
  });

  it("lists the app settings and the connection strings with their values and types", async () => {
    expect(await arm.listAppSettings()).toEqual({ WEBSITE_TIME_ZONE: "UTC", API_KEY: "Api-Key-Value-42x" });
    expect(await arm.listConnectionStrings()).toEqual({ MainDb: { value: mainDb, type: "PostgreSQL" } });
    expect(standIn.requests.slice(-2)).toEqual([
      { server: "arm", method: "POST", path: `${resourceId}/config/appsettings/list?api-version=2023-12-01`, status: 200 },
      { server: "arm", method: "POST", path: `${resourceId}/config/connectionstrings/list?api-version=2023-12-01`, status: 200 },
    ]);
  });

  it("writes the whole set back: what is not named is removed", async () => {
    await arm.writeAppSettings({ WEBSITE_TIME_ZONE: "W. Europe Standard Time" });
    expect(await arm.listAppSettings()).toEqual({ WEBSITE_TIME_ZONE: "W. Europe Standard Time" });
    await arm.writeConnectionStrings({ MainDb: { value: mainDb, type: "PostgreSQL" }, Cache: { value: "redis://cache:6380", type: "RedisCache" } });
    expect(standIn.connectionStrings).toEqual({ MainDb: { value: mainDb, type: "PostgreSQL" }, Cache: { value: "redis://cache:6380", type: "RedisCache" } });
  });

  it("refuses a connection string type Azure does not know, without its value", async () => {
    const error = await failure(arm.writeConnectionStrings({ MainDb: { value: mainDb, type: "Postgres" } }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.hint).toContain("PostgreSQL");
    expect(error.describe()).not.toContain("Db-Secret-8e21f");
  });

  it("reads a slot's settings under the slot's resource id", async () => {
    const slotStandIn = await startKuduStandIn({
      credentials: { user: "$contoso", password: "unused-password" },
      token,
      site: { subscription, resourceGroup: "web", name: "contoso", slot: "staging" },
      settings: { SLOT: "staging" },
    });
    try {
      const slotId = appServiceAddress({ appService: "contoso", resourceGroup: "web", subscription, slot: "staging" }).resourceId!;
      const slotArm = new ArmSettings({ resourceId: slotId, getToken: async () => token, armUrl: slotStandIn.armUrl, retry: fast });
      expect(await slotArm.listAppSettings()).toEqual({ SLOT: "staging" });
      expect(slotStandIn.requests.at(-1)!.path).toContain("/sites/contoso/slots/staging/config/appsettings/list");
    } finally {
      await slotStandIn.stop();
    }
  });

  it("says a wrong token is refused, without the token", async () => {
    const wrong = new ArmSettings({ resourceId, getToken: async () => "stale-token-0000", armUrl: standIn.armUrl, retry: fast });
    const error = await failure(wrong.listAppSettings());
    expect(error.code).toBe("HOME_REFUSED");
    expect(error.message).toContain("InvalidAuthenticationToken");
    expect(error.describe()).not.toContain("stale-token-0000");
  });

  it("says which part of the address ARM did not find", async () => {
    const otherGroup = appServiceAddress({ appService: "contoso", resourceGroup: "web-old", subscription }).resourceId!;
    const error = await failure(new ArmSettings({ resourceId: otherGroup, getToken: async () => token, armUrl: standIn.armUrl, retry: fast }).listAppSettings());
    expect(error.code).toBe("HOME_MISSING");
    expect(error.message).toContain("ResourceGroupNotFound");
    const otherApp = appServiceAddress({ appService: "fabrikam", resourceGroup: "web", subscription }).resourceId!;
    const missing = await failure(new ArmSettings({ resourceId: otherApp, getToken: async () => token, armUrl: standIn.armUrl, retry: fast }).listConnectionStrings());
    expect(missing.message).toContain("ResourceNotFound");
  });

  it("retries when ARM throttles, as Retry-After says", async () => {
    standIn.failNext({ status: 429, times: 2, retryAfter: "0", server: "arm" });
    expect(await arm.listAppSettings()).toHaveProperty("WEBSITE_TIME_ZONE");
    expect(standIn.requests.slice(-3).map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it("stand-in: ARM needs api-version and a bearer token, as ARM does", async () => {
    const url = `${standIn.armUrl}${resourceId}/config/appsettings/list`;
    const noVersion = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toEqual({ error: { code: "MissingApiVersionParameter", message: expect.stringContaining("api-version") } });
    const noToken = await fetch(`${url}?api-version=2023-12-01`, { method: "POST" });
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe("AuthenticationFailed");
    const listed = await fetch(`${url}?api-version=2023-12-01`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(await listed.json()).toMatchObject({ id: `${resourceId}/config/appsettings`, name: "appsettings", type: "Microsoft.Web/sites/config", properties: expect.any(Object) });
  });
});
