import { chmod, mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "./support/azurite.js";
import { runCli } from "./support/cli.js";

/**
 * Entra ID (DefaultAzureCredential) end to end: Azurite in OAuth mode checks the
 * bearer token's issuer, audience and lifetime as Azure Storage does; the token
 * comes from the Azure CLI credential, here an `az` on PATH that prints one.
 */
let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite({ oauth: true });
});
afterAll(async () => {
  await azurite?.stop();
});

function fakeToken(): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return [
    b64({ typ: "JWT", alg: "RS256" }),
    b64({ aud: "https://storage.azure.com", iss: "https://sts.windows.net/ab1f708d-50f6-404c-a006-d71b2ac7a606/", iat: now - 60, nbf: now - 60, exp: now + 3600, oid: "test-identity" }),
    "c2lnbmF0dXJl",
  ].join(".");
}

async function app(accountUrl: string, container = "entra-backups") {
  const dir = await mkdtemp(path.join(os.tmpdir(), "entra-"));
  await mkdir(path.join(dir, "site"));
  await writeFile(path.join(dir, "site/index.html"), "<h1>hi</h1>");
  const config = path.join(dir, "app-backup.yml");
  await writeFile(config, `name: entra\nhome: ./site\nbackup:\n  storage: { accountUrl: "${accountUrl}", container: "${container}" }\n`);
  return config;
}

/** An environment whose `az` on PATH prints a valid token, as after `az login`. */
async function signedInEnv() {
  const bin = await mkdtemp(path.join(os.tmpdir(), "fake-az-"));
  const expires = Math.floor(Date.now() / 1000) + 3600;
  await writeFile(path.join(bin, "az"), `#!/bin/sh\necho '${JSON.stringify({ accessToken: fakeToken(), expires_on: expires, tokenType: "Bearer" })}'\n`);
  await chmod(path.join(bin, "az"), 0o755);
  return { PATH: `${bin}:${process.env.PATH}`, AZURE_TOKEN_CREDENTIALS: "AzureCliCredential", NODE_EXTRA_CA_CERTS: azurite.caCertificate! };
}

describe("Entra ID storage", () => {
  it("backs up with a token from DefaultAzureCredential", async () => {
    const env = await signedInEnv();
    const config = await app(azurite.accountUrl);
    // The container does not exist yet: with an identity, the backup creates it.
    const run = await runCli(["backup", "--config", config, "--json"], { env });
    expect(run.stderr).not.toMatch(/error|warning/i);
    expect(run.code).toBe(0);
    expect(run.json.status).toBe("Succeeded");
    expect(run.json.zip).toBe(`${azurite.accountUrl}/entra-backups/${run.json.name}.zip`);
    const list = await runCli(["list", "--config", config, "--json"], { env });
    expect(list.json).toEqual([expect.objectContaining({ name: run.json.name, status: "Succeeded", files: 1 })]);
  });

  it("says how to provide a credential when none is available", async () => {
    const emptyBin = await mkdtemp(path.join(os.tmpdir(), "no-az-"));
    const searchPath = [emptyBin, "/usr/bin", "/bin"];
    // Without any `az` on the PATH the Azure CLI credential has nothing to ask.
    for (const folder of searchPath) expect(await readdir(folder), `an az in ${folder}`).not.toContain("az");
    const config = await app(azurite.accountUrl, "entra-no-credential");
    const run = await runCli(["backup", "--config", config], {
      env: { PATH: searchPath.join(":"), AZURE_TOKEN_CREDENTIALS: "AzureCliCredential", NODE_EXTRA_CA_CERTS: azurite.caCertificate },
    });
    expect(run.code).toBe(11);
    expect(run.stderr).toMatch(/No Entra ID credential could get a token/);
    expect(run.stderr).toMatch(/az login/);
    // Refused before anything was written: signed in, a listing finds that the container was never even created.
    const list = await runCli(["list", "--config", config, "--json"], { env: await signedInEnv() });
    expect(list.stderr).toMatch(/ContainerNotFound/);
    expect(list.code).not.toBe(0);
  });
});
