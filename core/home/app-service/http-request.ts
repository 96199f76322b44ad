import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { TokenCredential } from "@azure/identity";
import { AppBackupError } from "../../errors.js";

/**
 * Entra ID's scope for both ARM and Kudu: the SCM site accepts tokens whose audience is
 * ARM (`https://management.azure.com/`, or `https://management.core.windows.net/` as
 * `az account get-access-token` issues by default), for an identity with a role on the
 * app that may write to it (Website Contributor, Contributor).
 */
export const AZURE_MANAGEMENT_SCOPE = "https://management.azure.com/.default";

/** How a request signs in: the app's publishing credentials (Kudu only) or an Entra ID token. */
export type RemoteAuth = { kind: "basic"; user: string; password: string } | { kind: "token"; getToken: () => Promise<string> };

/** A token getter over an `@azure/identity` credential (DefaultAzureCredential and the like). */
export function tokenGetter(credential: TokenCredential, scope = AZURE_MANAGEMENT_SCOPE): () => Promise<string> {
  return async () => {
    const token = await credential.getToken(scope);
    if (!token) throw new AppBackupError("HOME_REFUSED", `Entra ID gave no token for ${scope}.`, "Sign in (`az login`, a managed identity or AZURE_* variables) with an identity that has a role on the app.");
    return token.token;
  };
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The first wait; each next one doubles, with jitter. */
  baseDelayMs: number;
  /** The longest wait; a Retry-After asking for more than this is not waited for. */
  maxDelayMs: number;
}

type RequestBodyInit = NonNullable<RequestInit["body"]>;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Statuses that say "not now": throttled, or the app's front end busy or restarting. */
const RETRIED_STATUSES = new Set([429, 503]);

/** A request body: bytes, or a function giving a fresh stream for each attempt (a stream given once is sent once). */
export type RequestBody = Buffer | string | Readable | (() => Readable);

export interface RemoteRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
}

export interface RemoteTarget {
  /** "Kudu at contoso.scm.azurewebsites.net", for messages. */
  what: string;
  auth: RemoteAuth;
  retry: RetryPolicy;
  fetch: typeof fetch;
}

/**
 * Sends a request, signing it in each time (a token getter refreshes its token), and
 * sends it again after 429 or 503 (waiting as Retry-After says, else backing off) and
 * after a connection that failed before any answer, up to the policy's attempts. Never
 * follows redirects: Kudu redirects only when a path's trailing `/` does not fit what is
 * there, which the caller turns into an error. Any other answer is returned as it is.
 */
export async function sendWithRetries(target: RemoteTarget, request: RemoteRequest): Promise<Response> {
  const repeatable = !(request.body instanceof Readable);
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= target.retry.attempts || !repeatable;
    const signedIn = await authorization(target);
    let response: Response;
    try {
      response = await target.fetch(request.url, {
        method: request.method,
        headers: { ...request.headers, authorization: signedIn },
        redirect: "manual",
        ...bodyInit(request.body),
      });
    } catch (error) {
      if (error instanceof AppBackupError) throw error;
      if (last) throw unreachable(target, request, error, attempt);
      await sleep(backoff(target.retry, attempt));
      continue;
    }
    if (!RETRIED_STATUSES.has(response.status) || last) return response;
    const wait = retryAfter(response.headers.get("retry-after"));
    await response.body?.cancel().catch(() => undefined);
    if (wait !== undefined && wait > target.retry.maxDelayMs) {
      throw new AppBackupError(
        "HOME_UNREACHABLE",
        `${target.what} answered ${response.status} to ${request.method} ${request.url.pathname} and asked to wait ${Math.ceil(wait / 1000)} s before trying again.`,
        "The app is throttled or busy for a while; run again later.",
      );
    }
    await sleep(wait ?? backoff(target.retry, attempt));
  }
}

async function authorization(target: RemoteTarget): Promise<string> {
  const auth = target.auth;
  if (auth.kind === "basic") return `Basic ${Buffer.from(`${auth.user}:${auth.password}`, "utf8").toString("base64")}`;
  try {
    return `Bearer ${await auth.getToken()}`;
  } catch (error) {
    if (error instanceof AppBackupError) throw error;
    // Credential errors say which sources were tried and why each failed; they carry no token.
    throw new AppBackupError(
      "HOME_REFUSED",
      `No Entra ID token could be had for ${target.what}: ${error instanceof Error ? error.message : String(error)}`,
      "Sign in (`az login`, a managed identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID with a secret or federated token), or use the app's publishing credentials.",
      { cause: error },
    );
  }
}

function bodyInit(body: RequestBody | undefined): { body?: RequestBodyInit; duplex?: "half" } {
  if (body === undefined) return {};
  if (typeof body === "string" || Buffer.isBuffer(body)) return { body: body as RequestBodyInit };
  const stream = typeof body === "function" ? body() : body;
  return { body: Readable.toWeb(stream) as unknown as RequestBodyInit, duplex: "half" };
}

/** Milliseconds from a Retry-After header (seconds, or an HTTP date). */
function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function unreachable(target: RemoteTarget, request: RemoteRequest, error: unknown, attempts: number): AppBackupError {
  const cause = error instanceof Error ? ((error.cause as { code?: string } | undefined)?.code ?? error.message) : String(error);
  return new AppBackupError(
    "HOME_UNREACHABLE",
    `${target.what} could not be reached for ${request.method} ${request.url.pathname} (${cause}; ${attempts} attempt${attempts === 1 ? "" : "s"}).`,
    "Check the address and this machine's network (DNS, proxy, firewall); the app may be stopped. Run again once it answers.",
    { cause: error },
  );
}

/**
 * Up to 300 characters of what the server said, with any secret this request carried
 * masked, for the end of an error message.
 */
export async function serverSaid(response: Response, secrets: string[]): Promise<string> {
  let text = await response.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { Message?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
    const message = parsed.error?.message ?? parsed.Message ?? parsed.message;
    if (typeof message === "string") text = parsed.error?.code ? `${String(parsed.error.code)}: ${message}` : message;
  } catch {
    // Not JSON: an HTML error page says little; keep only its text.
    text = text.replace(/<[^>]*>/g, " ");
  }
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join("***");
  text = text.replace(/\s+/g, " ").trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
