import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Loopback stand-ins for what a GitHub workflow signs in to Azure Storage with:
 * the runner's OIDC endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) and Entra ID's token
 * endpoint. MSAL only talks to an HTTPS authority, so Entra's stand-in serves
 * HTTPS with a self-signed certificate (`caCertificate`, for NODE_EXTRA_CA_CERTS).
 */

function base64Url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An unsigned JWT of these claims (Azurite's basic OAuth check reads claims, not signatures). */
export function jwt(claims: Record<string, unknown>): string {
  return [base64Url({ typ: "JWT", alg: "RS256" }), base64Url(claims), "c2lnbmF0dXJl"].join(".");
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of request) body += chunk;
  return body;
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function listening(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server | net.Server): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

export interface IdTokenEndpoint {
  /** ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, as the runner sets them for `id-token: write`. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** Every ID token issued, in order. */
  readonly issued: string[];
  /** The audience of each request. */
  readonly audiences: string[];
  stop(): Promise<void>;
}

/** The runner's OIDC endpoint: a fresh ID token per request, or (with `refuse`) 403 as without `id-token: write`. */
export async function startIdTokenEndpoint(options: { refuse?: boolean } = {}): Promise<IdTokenEndpoint> {
  const requestToken = `runtime-${randomUUID()}`;
  const issued: string[] = [];
  const audiences: string[] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url!, "http://127.0.0.1");
    audiences.push(url.searchParams.get("audience") ?? "");
    if (options.refuse || request.headers.authorization !== `Bearer ${requestToken}`) {
      reply(response, 403, { message: "Resource not accessible by integration" });
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const token = jwt({
      iss: "https://token.actions.githubusercontent.com",
      sub: "repo:contoso/shop:ref:refs/heads/main",
      aud: url.searchParams.get("audience"),
      jti: randomUUID(),
      iat: now,
      nbf: now,
      exp: now + 300,
    });
    issued.push(token);
    reply(response, 200, { value: token });
  });
  const port = await listening(server);
  return {
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken },
    issued,
    audiences,
    stop: () => close(server),
  };
}

export interface TokenRequest {
  clientId: string;
  scope: string;
  assertionType: string;
  assertion: string;
}

export interface EntraStandIn {
  /** For AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  /** The PEM file clients must trust. */
  caCertificate: string;
  /** Every token request, in order. */
  readonly requests: TokenRequest[];
  /** The access tokens issued, with when each expires (ms since the epoch). */
  readonly issued: Array<{ token: string; expiresAt: number }>;
  stop(): Promise<void>;
}

/**
 * Entra ID's v2 endpoints for one tenant: the OpenID configuration MSAL reads
 * first, and a token endpoint that exchanges the client assertion of the one
 * app registration it knows for a storage access token Azurite accepts, valid
 * for `expiresInSeconds`; any other client is refused as Entra refuses it.
 */
export async function startEntraStandIn(options: { tenantId: string; clientId: string; expiresInSeconds: number }): Promise<EntraStandIn> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "entra-"));
  const caCertificate = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", caCertificate,
  ], { stdio: "ignore" });
  const requests: TokenRequest[] = [];
  const issued: Array<{ token: string; expiresAt: number }> = [];
  let origin = "";
  const tenant = `/${options.tenantId}`;
  const server = https.createServer({ cert: await readFile(caCertificate), key: await readFile(key) }, async (request, response) => {
    const url = new URL(request.url!, origin);
    if (request.method === "GET" && url.pathname === `${tenant}/v2.0/.well-known/openid-configuration`) {
      reply(response, 200, {
        issuer: `${origin}${tenant}/v2.0`,
        authorization_endpoint: `${origin}${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}${tenant}/oauth2/v2.0/token`,
        jwks_uri: `${origin}${tenant}/discovery/v2.0/keys`,
        end_session_endpoint: `${origin}${tenant}/oauth2/v2.0/logout`,
      });
      return;
    }
    if (request.method === "POST" && url.pathname === `${tenant}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(await readBody(request));
      requests.push({
        clientId: form.get("client_id") ?? "",
        scope: form.get("scope") ?? "",
        assertionType: form.get("client_assertion_type") ?? "",
        assertion: form.get("client_assertion") ?? "",
      });
      if (form.get("client_id") !== options.clientId) {
        reply(response, 400, {
          error: "unauthorized_client",
          error_description: `AADSTS700016: Application with identifier '${form.get("client_id")}' was not found in the directory '${options.tenantId}'.`,
          error_codes: [700016],
        });
        return;
      }
      // The token's own expiry is the whole second at or after the one the client is told, so the client renews first.
      const now = Date.now();
      const exp = Math.ceil(now / 1000) + options.expiresInSeconds;
      const token = jwt({ aud: "https://storage.azure.com", iss: `https://sts.windows.net/${options.tenantId}/`, iat: Math.floor(now / 1000) - 60, nbf: Math.floor(now / 1000) - 60, exp, oid: "workflow-identity" });
      issued.push({ token, expiresAt: exp * 1000 });
      reply(response, 200, { token_type: "Bearer", expires_in: options.expiresInSeconds, ext_expires_in: options.expiresInSeconds, access_token: token });
      return;
    }
    reply(response, 404, { error: "not_found", error_description: `${request.method} ${url.pathname} is not an endpoint of this tenant.` });
  });
  const port = await listening(server);
  origin = `https://127.0.0.1:${port}`;
  return {
    authorityHost: origin,
    caCertificate,
    requests,
    issued,
    async stop() {
      await close(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One PEM file trusting every certificate given, for NODE_EXTRA_CA_CERTS. */
export async function trustBundle(dir: string, certificates: string[]): Promise<string> {
  const bundle = path.join(dir, "trusted.pem");
  await writeFile(bundle, (await Promise.all(certificates.map((file) => readFile(file, "utf8")))).join("\n"));
  return bundle;
}

export interface ThrottlingProxy {
  port: number;
  stop(): Promise<void>;
}

/**
 * A TCP proxy to 127.0.0.1:`port` that passes what the client sends at most
 * `bytesPerSecond` (TLS passes through untouched), so an upload takes at least
 * its size over that rate however fast the machine is.
 */
export async function startThrottlingProxy(port: number, bytesPerSecond: number): Promise<ThrottlingProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    const throttled = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        await sleep((chunk.length / bytesPerSecond) * 1000);
        yield chunk;
      }
    };
    pipeline(client, throttled, upstream).catch(() => upstream.destroy());
    pipeline(upstream, client).catch(() => client.destroy());
  });
  const listeningPort = await listening(server);
  return {
    port: listeningPort,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await close(server);
    },
  };
}
