import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from "@azure/storage-blob";
import { freePort } from "../../test/support/free-port.mjs";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Azurite's well-known development account (public: it is in Azurite's documentation). */
export const devAccount = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};

/**
 * A container SAS query string (read, add, create, write, delete, list) for
 * the development account, valid for a day: long enough for any benchmark.
 */
export function containerSas(container) {
  return generateBlobSASQueryParameters(
    {
      containerName: container,
      permissions: ContainerSASPermissions.parse("racwdl"),
      startsOn: new Date(Date.now() - 60_000),
      expiresOn: new Date(Date.now() + 24 * 3_600_000),
    },
    new StorageSharedKeyCredential(devAccount.name, devAccount.key),
  ).toString();
}

/**
 * Starts Azurite's blob service on a free loopback port, in a temp folder (as
 * the tests run it: its in-memory mode measured slower per request), or under
 * `parent` when its blobs are too big for the temp folder. Resolves once it
 * answers; `stop` removes the folder.
 */
export async function startAzurite({ parent = os.tmpdir() } = {}) {
  const port = await freePort();
  const location = mkdtempSync(path.join(parent, "bench-azurite-"));
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, "node_modules/azurite/dist/src/blob/main.js"),
      "--blobHost", "127.0.0.1",
      "--blobPort", String(port),
      "--location", location,
      "--silent",
      "--skipApiVersionCheck",
      "--loose",
      // Otherwise Azurite reports to an outside address, which a benchmark must never depend on.
      "--disableTelemetry",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const accountUrl = `http://127.0.0.1:${port}/${devAccount.name}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(location, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`Azurite exited with ${child.exitCode} before it answered: ${stderr.trim()}`);
    }
    // Any HTTP answer (an authentication error included) means the service is up.
    const answered = await fetch(`${accountUrl}?comp=list`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Azurite did not answer on 127.0.0.1:${port} within 30 s: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    accountUrl,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${devAccount.name};AccountKey=${devAccount.key};BlobEndpoint=${accountUrl};`,
    stop,
  };
}
