import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";
import type { Azurite } from "./azurite.js";

/**
 * What the proxy does to a request it was told to break:
 * - `500`, `503`, `403`: answers with that status and an Azure-style error body, without forwarding;
 * - `reset`: resets the connection before forwarding;
 * - `hang`: takes the request and never answers (the client gives up on its own timeout);
 * - `drop-reply`: forwards the request, lets the service act on it, then resets the
 *   connection instead of passing the reply on: the write happened, the client never hears;
 * - `stall-body`: passes the reply's status and headers on, then nothing more of its body;
 * - `trickle`: passes the reply on slowly, a sixteenth of its body every `trickleMs`,
 *   so a long read keeps making progress.
 */
export type FaultKind = "500" | "503" | "403" | "reset" | "hang" | "drop-reply" | "stall-body" | "trickle";

/** The faults a storage service or the network between can cause to any one request. */
export const faultKinds: readonly FaultKind[] = ["500", "503", "403", "reset", "hang", "drop-reply"];

/** Which requests a fault applies to; every given field must match. */
export interface RequestPattern {
  method?: string;
  /** A `comp=` value the query must carry (`block`, `blocklist`, `lease`, `metadata`, `list`), or `none` for none. */
  comp?: string;
  /** How the blob name ends (`.zip`, `.xml`, `.log`, `.lock`, `.backup-config.json`). */
  blobSuffix?: string;
  /** Further test on the request. */
  where?: (request: SeenRequest) => boolean;
}

export interface FaultRule extends RequestPattern {
  kind: FaultKind;
  /** The first matching request to break (1-based); default 1. */
  nth?: number;
  /** How many matching requests from the nth on are broken; default 1, `Infinity` for all. */
  times?: number;
  /** For `trickle`: the pause between pieces of the body. */
  trickleMs?: number;
}

export interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  /** The blob name (decoded), or "" for a container or account request. */
  blob: string;
  comp: string;
  /** The fault applied to it, if any. */
  fault?: FaultKind;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  accountUrl: string;
  /** Azurite's connection string with the blob endpoint moved to the proxy. */
  connectionString: string;
  /** A container SAS URL of Azurite's, pointed at the proxy instead. */
  viaProxy(containerUrl: string): string;
  /** Arms a fault; the previous ones stay armed. */
  inject(rule: FaultRule): void;
  /** Disarms every fault and forgets the requests seen. */
  reset(): void;
  /** Every request since the last reset, in arrival order. */
  readonly seen: readonly SeenRequest[];
  /** How many requests were broken since the last reset. */
  readonly fired: number;
  stop(): Promise<void>;
}

interface ArmedRule extends FaultRule {
  matched: number;
}

/** A loopback HTTP proxy in front of a real Azurite that breaks chosen requests in chosen ways. */
export async function startFaultProxy(azurite: Azurite): Promise<FaultProxy> {
  const upstream = new URL(azurite.accountUrl);
  let rules: ArmedRule[] = [];
  let seen: SeenRequest[] = [];
  let fired = 0;
  const sockets = new Set<Socket>();

  const server = http.createServer((request, response) => {
    const info = describe(request);
    seen.push(info);
    // Every rule counts the requests matching its own pattern, so each rule's nth stays true to it.
    const matching = rules.filter((r) => matches(r, info));
    for (const r of matching) r.matched++;
    const rule = matching.find((r) => r.matched >= (r.nth ?? 1) && r.matched < (r.nth ?? 1) + (r.times ?? 1));
    if (!rule) {
      forward(request, response, upstream);
      return;
    }
    info.fault = rule.kind;
    fired++;
    breakRequest(rule, request, response, upstream);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    accountUrl: `${origin}${upstream.pathname}`,
    connectionString: azurite.connectionString.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${origin}${upstream.pathname}`),
    viaProxy(containerUrl) {
      const url = new URL(containerUrl);
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    inject(rule) {
      rules.push({ ...rule, matched: 0 });
    },
    reset() {
      rules = [];
      seen = [];
      fired = 0;
    },
    get seen() {
      return seen;
    },
    get fired() {
      return fired;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function describe(request: IncomingMessage): SeenRequest {
  const url = new URL(request.url ?? "/", "http://proxy");
  // /account/container/blob
  const parts = url.pathname.split("/").slice(3);
  return {
    method: request.method ?? "GET",
    url: request.url ?? "/",
    blob: decodeURIComponent(parts.join("/")),
    comp: url.searchParams.get("comp") ?? "",
  };
}

function matches(pattern: RequestPattern, request: SeenRequest): boolean {
  if (pattern.method && pattern.method !== request.method) return false;
  if (pattern.comp !== undefined && (pattern.comp === "none" ? request.comp !== "" : pattern.comp !== request.comp)) return false;
  if (pattern.blobSuffix !== undefined && !(request.blob && request.blob.endsWith(pattern.blobSuffix))) return false;
  if (pattern.where && !pattern.where(request)) return false;
  return true;
}

function breakRequest(rule: FaultRule, request: IncomingMessage, response: ServerResponse, upstream: URL): void {
  const kind = rule.kind;
  switch (kind) {
    case "500":
    case "503":
    case "403":
      request.resume();
      request.on("end", () => answerWith(response, Number(kind)));
      return;
    case "reset":
      request.socket.resetAndDestroy();
      return;
    case "hang":
      // Take the whole request so the client is left waiting for a reply that never comes.
      request.resume();
      return;
    case "drop-reply":
      forward(request, response, upstream, () => request.socket.resetAndDestroy());
      return;
    case "stall-body":
      forward(request, response, upstream, (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        response.flushHeaders();
      });
      return;
    case "trickle":
      forward(request, response, upstream, (reply, body) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        const piece = Math.max(1, Math.ceil(body.length / 16));
        let at = 0;
        const timer = setInterval(() => {
          if (response.destroyed) return clearInterval(timer);
          response.write(body.subarray(at, at + piece));
          at += piece;
          if (at >= body.length) {
            clearInterval(timer);
            response.end();
          }
        }, rule.trickleMs ?? 100);
      });
      return;
  }
}

const errorCodes: Record<number, [string, string]> = {
  500: ["InternalError", "The server encountered an internal error. Please retry the request."],
  503: ["ServerBusy", "The server is currently unable to receive requests. Please retry your request."],
  403: ["AuthorizationFailure", "This request is not authorized to perform this operation."],
};

function answerWith(response: ServerResponse, status: number): void {
  const [code, message] = errorCodes[status]!;
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  response.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    "x-ms-error-code": code,
    "x-ms-request-id": "fault-proxy",
  });
  response.end(body);
}

/** Passes the request to Azurite and its reply back, or, with `instead`, waits for the whole reply and hands it there. */
function forward(
  request: IncomingMessage,
  response: ServerResponse,
  upstream: URL,
  instead?: (reply: IncomingMessage, body: Buffer) => void,
): void {
  const outgoing = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, host: upstream.host },
    },
    (reply) => {
      if (instead) {
        const chunks: Buffer[] = [];
        reply.on("data", (chunk: Buffer) => chunks.push(chunk));
        reply.on("end", () => instead(reply, Buffer.concat(chunks)));
        return;
      }
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
    },
  );
  outgoing.on("error", () => request.socket.destroy());
  request.pipe(outgoing);
}
