import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from "@azure/storage-blob";
import { freePort, waitForPort } from "./ports.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Azurite's well-known development account. */
export const devAccount = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};

export interface Azurite {
  port: number;
  accountUrl: string;
  connectionString: string;
  service: BlobServiceClient;
  /** With `oauth`: the PEM file clients must trust (NODE_EXTRA_CA_CERTS). */
  caCertificate?: string;
  /** Creates a container and returns a SAS URL for it (read, add, create, write, delete, list). */
  containerWithSas(name: string, options?: { key?: string; permissions?: string; expiresInMs?: number }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a real Azurite blob service on a free 127.0.0.1 port, in a temp folder.
 * With `oauth`, it serves HTTPS with a self-signed certificate (`caCertificate`)
 * and accepts Entra ID bearer tokens, as Azure Storage does.
 */
export async function startAzurite(options: { oauth?: boolean } = {}): Promise<Azurite> {
  const port = await freePort();
  const location = await mkdtemp(path.join(os.tmpdir(), "azurite-"));
  const tlsArgs: string[] = [];
  let caCertificate: string | undefined;
  if (options.oauth) {
    caCertificate = path.join(location, "cert.pem");
    const key = path.join(location, "key.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", caCertificate,
    ], { stdio: "ignore" });
    tlsArgs.push("--cert", caCertificate, "--key", key, "--oauth", "basic");
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [
      path.join(root, "node_modules/azurite/dist/src/blob/main.js"),
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--location",
      location,
      "--silent",
      "--skipApiVersionCheck",
      "--loose",
      // Otherwise Azurite 3.35 reports to an outside address, which a test must never depend on.
      "--disableTelemetry",
      ...tlsArgs,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`Azurite exited with ${code}: ${stderr}`))),
  );
  await Promise.race([waitForPort(port), exited]);

  const scheme = options.oauth ? "https" : "http";
  const accountUrl = `${scheme}://127.0.0.1:${port}/${devAccount.name}`;
  const connectionString = `DefaultEndpointsProtocol=${scheme};AccountName=${devAccount.name};AccountKey=${devAccount.key};BlobEndpoint=${accountUrl};`;
  const service = options.oauth
    ? new BlobServiceClient(accountUrl, new StorageSharedKeyCredential(devAccount.name, devAccount.key))
    : BlobServiceClient.fromConnectionString(connectionString);
  return {
    port,
    caCertificate,
    accountUrl,
    connectionString,
    service,
    async containerWithSas(name, options = {}) {
      const container = service.getContainerClient(name);
      await container.createIfNotExists();
      const sas = generateBlobSASQueryParameters(
        {
          containerName: name,
          permissions: ContainerSASPermissions.parse(options.permissions ?? "racwdl"),
          startsOn: new Date(Date.now() - 60_000),
          expiresOn: new Date(Date.now() + (options.expiresInMs ?? 3_600_000)),
        },
        new StorageSharedKeyCredential(devAccount.name, options.key ?? devAccount.key),
      ).toString();
      return `${container.url}?${sas}`;
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
      await rm(location, { recursive: true, force: true });
    },
  };
}
