import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { leftovers, treeFacts } from "../support/test-app.js";
import { startAzurite, type Azurite } from "../support/azurite.js";
import { runCli } from "../support/cli.js";
import { startFaultProxy, type FaultProxy, type FaultRule } from "../support/fault-proxy.js";
import { directStore, faultEnv, freshContainer, makeHome } from "../support/fault-setup.js";

let azurite: Azurite;
let proxy: FaultProxy;
let home: string;
beforeAll(async () => {
  azurite = await startAzurite();
  proxy = await startFaultProxy(azurite);
  home = await makeHome();
});
afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});
beforeEach(() => proxy.reset());

/** Two configuration files for one container: through the proxy (the run under test) and direct (the user checking). */
async function configs(appHome = home) {
  const container = freshContainer("cli");
  await directStore(azurite, container).check();
  const write = async (file: string, connectionString: string) => {
    const config = path.join(path.dirname(appHome), file);
    await writeFile(config, `name: shop\nhome: ${appHome}\nbackup:\n  storage: { connectionString: "${connectionString}", container: ${container} }\n`);
    return config;
  };
  return { viaProxy: await write(`${container}-proxy.yml`, proxy.connectionString), direct: await write(`${container}.yml`, azurite.connectionString) };
}

const cli = (args: string[]) => runCli(args, { env: faultEnv });

async function backUpMeeting(rule: FaultRule) {
  const config = await configs();
  proxy.inject(rule);
  const backup = await cli(["backup", "--config", config.viaProxy, "--json"]);
  expect(proxy.fired).toBe(1);
  proxy.reset();
  const list = await cli(["list", "--config", config.direct, "--json"]);
  expect(list.code).toBe(0);
  return { config, backup, listed: list.json as Array<{ name: string; status: string }> };
}

describe("the CLI under storage faults", () => {
  it("reports a backup whose manifest commit lost its reply as Succeeded, as storage holds it", async () => {
    const { config, backup, listed } = await backUpMeeting({ method: "PUT", comp: "blocklist", blobSuffix: ".xml", kind: "drop-reply" });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.json).toMatchObject({ status: "Succeeded" });
    expect(listed.map((b) => [b.name, b.status])).toEqual([[backup.json.name, "Succeeded"]]);
    expect((await cli(["verify", backup.json.name, "--config", config.direct, "--read-data"])).code).toBe(0);
  });

  it("reports a backup whose zip commit lost its reply as Succeeded, as storage holds it", async () => {
    const { config, backup, listed } = await backUpMeeting({ method: "PUT", comp: "blocklist", blobSuffix: ".zip", kind: "drop-reply" });
    expect(backup.code, backup.stderr).toBe(0);
    expect(listed.map((b) => [b.name, b.status])).toEqual([[backup.json.name, "Succeeded"]]);
    expect((await cli(["verify", backup.json.name, "--config", config.direct, "--read-data"])).code).toBe(0);
  });

  it("reports a backup whose log was refused as failed, and storage lists nothing restorable", async () => {
    const { config, backup, listed } = await backUpMeeting({ method: "PUT", comp: "none", blobSuffix: ".log", kind: "403" });
    // A refused SAS or key is an input the user must fix: exit 11.
    expect(backup.code).toBe(11);
    expect(backup.stderr).toMatch(/refused to write shop_\d{14}\.log/);
    expect(listed.map((b) => b.status)).toEqual(["Failed"]);
    expect((await cli(["verify", listed[0]!.name, "--config", config.direct, "--read-data"])).code).not.toBe(0);
    expect((await cli(["restore", listed[0]!.name, "--config", config.direct])).code).not.toBe(0);
  });

  it("leaves the home as it was when a restore's zip read is refused", async () => {
    const config = await configs();
    const backup = await cli(["backup", "--config", config.direct, "--json"]);
    expect(backup.code).toBe(0);
    await writeFile(path.join(home, "site/wwwroot/new.txt"), "written after the backup\n");
    const before = treeFacts(home);
    proxy.inject({ method: "GET", blobSuffix: ".zip", kind: "403" });
    const restore = await cli(["restore", backup.json.name, "--config", config.viaProxy, "--json"]);
    expect(proxy.fired).toBe(1);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(/refused to read shop_\d{14}\.zip/);
    expect(treeFacts(home)).toEqual(before);
    expect(leftovers(home)).toEqual([]);
  });

  it("refuses a backup whose credential may not write before it reads the home: the write check is refused (exit 11)", async () => {
    const config = await configs();
    proxy.inject({ method: "PUT", comp: "none", where: (request) => request.blob.startsWith("write-check."), kind: "403" });
    const backup = await cli(["backup", "--config", config.viaProxy, "--json"]);
    expect(proxy.fired).toBe(1);
    expect(backup.code).toBe(11);
    expect(backup.json.error.code).toBe("STORAGE_AUTH");
    expect(backup.stderr).toMatch(/The container cannot be written, so nothing was backed up: Azure Storage refused to write write-check\.[0-9a-f]+\.tmp at .* \(HTTP 403/);
    // Nothing was claimed or written past the check.
    expect(proxy.seen.filter((request) => request.method === "PUT" && !request.blob.startsWith("write-check."))).toEqual([]);
    proxy.reset();
    expect((await cli(["list", "--config", config.direct, "--json"])).json).toEqual([]);
  });

  it("exits 10 when the service answers 503 to every retry", async () => {
    const config = await configs();
    proxy.inject({ method: "GET", comp: "list", kind: "503", times: Infinity });
    const backup = await cli(["backup", "--config", config.viaProxy]);
    expect(backup.code).toBe(10);
    expect(backup.stderr).toMatch(/Could not list the container: Azure Storage at .* kept answering HTTP 503/);
  });

  it("refuses a backup name that would reach into another container", async () => {
    const other = freshContainer("other");
    const blob = azurite.service.getContainerClient(other);
    await blob.createIfNotExists();
    await blob.getBlockBlobClient("shop_20260101000000.xml").upload("<secret/>", 9);
    const config = await configs();
    const show = await cli(["show", `../${other}/shop_20260101000000`, "--config", config.direct]);
    expect(show.code).toBe(2);
    // Refused before any request, whichever check (the CLI's or the store's) sees it first.
    expect(show.stderr).toMatch(/is not a backup name|is not a valid name inside the container/);
    expect(show.stdout).not.toContain("secret");
  });
});
