import { setTimeout as sleep } from "node:timers/promises";
import { BlobServiceClient, RestError, type StoragePipelineOptions } from "@azure/storage-blob";
import { AppBackupError } from "../errors.js";
import type { StorageSpec } from "../options.js";
import { displayUrl, redactPatterns } from "../secrets.js";
import { defaultCredential } from "./azure-credential.js";
import { ListingContainerClient } from "./azure-list.js";
import { assertPlainObjectName } from "./object-name.js";
import { outOfTermError, sasPermissionsNeeded, sasTermsOf, type SasTerms } from "./sas.js";
import { storageTimeoutEnvVar, storageTimeoutsFromEnv, type StorageTimeouts } from "./storage-timeouts.js";

export type AzureSpec = Exclude<StorageSpec, { kind: "local" }>;

/**
 * The SDK's `tryTimeoutInMs` only tells the service how long it may work on a
 * request; the client never gives up on a try by itself, so each try's own
 * timeout and the overall deadline are AzureConnection.attempt's.
 */
function pipelineOptionsFor(timeouts: StorageTimeouts): StoragePipelineOptions {
  return {
    retryOptions: {
      maxTries: 4,
      retryDelayInMs: timeouts.retryDelayMs,
      maxRetryDelayInMs: timeouts.maxRetryDelayMs,
      tryTimeoutInMs: timeouts.tryMs,
    },
    userAgentOptions: { userAgentPrefix: "app-backup" },
  };
}

/**
 * One Azure container as the store and its locks both reach it: the client,
 * and how its calls are timed, retried and turned into errors a user can act on.
 * A `cancel` signal given to a call gives it up and rejects with the signal's reason, undescribed.
 */
export class AzureConnection {
  readonly container: ListingContainerClient;
  readonly timeouts: StorageTimeouts;
  /** The SAS the container is reached with (a SAS URL, or a connection string's SharedAccessSignature), if any. */
  readonly sas: SasTerms | undefined;

  constructor(spec: AzureSpec, env: NodeJS.ProcessEnv = process.env) {
    this.timeouts = storageTimeoutsFromEnv(env);
    this.container = containerClientFor(spec, pipelineOptionsFor(this.timeouts));
    this.sas = sasTermsOf(this.container.url);
  }

  get location(): string {
    return displayUrl(this.container.url);
  }

  /** The client of one blob; a name that would leave the container (`../other/x`) is refused first. */
  blob(name: string) {
    assertPlainObjectName(name, this.location);
    return this.container.getBlockBlobClient(name);
  }

  /** Runs a storage call under its deadline and turns its failure into an error that says what to do, without credentials. */
  async call<T>(action: string, operation: (abortSignal: AbortSignal) => Promise<T>, cancel?: AbortSignal): Promise<T> {
    try {
      return await this.attempt(action, operation, cancel);
    } catch (error) {
      if (cancel?.aborted) throw error;
      throw this.describe(error, action);
    }
  }

  /**
   * Runs a storage call under one overall deadline, leaving its errors as the
   * service gave them. The SDK retries refused connections and 500/503 itself
   * but waits for a reply as long as it takes; each try here gets its own
   * timeout, and a try that got no reply in time is made again while the
   * deadline allows: every write is safe to repeat (staged blocks by id,
   * conditional writes by their token, overwrites by content).
   */
  async attempt<T>(action: string, operation: (abortSignal: AbortSignal) => Promise<T>, cancel?: AbortSignal): Promise<T> {
    const deadline = AbortSignal.timeout(this.timeouts.operationMs);
    const stopped = cancel ? AbortSignal.any([deadline, cancel]) : deadline;
    let pause = this.timeouts.retryDelayMs;
    for (;;) {
      cancel?.throwIfAborted();
      const tryTimeout = AbortSignal.timeout(this.timeouts.tryMs);
      try {
        return await operation(AbortSignal.any([stopped, tryTimeout]));
      } catch (error) {
        cancel?.throwIfAborted();
        if (deadline.aborted) throw this.timedOut(action);
        if (!tryTimeout.aborted) throw error;
      }
      try {
        await sleep(pause, undefined, { signal: stopped });
      } catch {
        cancel?.throwIfAborted();
        throw this.timedOut(action);
      }
      pause = Math.min(pause * 2, this.timeouts.maxRetryDelayMs);
    }
  }

  private timedOut(action: string): AppBackupError {
    return new AppBackupError(
      "STORAGE_UNREACHABLE",
      `Azure Storage at ${this.location} did not answer in time to ${action}: the call timed out after ${seconds(this.timeouts.operationMs)} s, every try included.`,
      `Check the network to the storage account (firewall, proxy, DNS) and that the account is available, then run again; ${storageTimeoutEnvVar} sets this deadline in milliseconds.`,
    );
  }

  /** A storage failure as an error that says what to do, without credentials. */
  describe(error: unknown, action: string): AppBackupError {
    if (error instanceof AppBackupError) return error;
    const where = this.location;
    if (error instanceof RestError) {
      const code = (error.details as { errorCode?: string } | undefined)?.errorCode ?? error.code ?? "";
      if (error.statusCode === 403 || error.statusCode === 401) return this.refused(action, `HTTP ${error.statusCode}${code ? ` ${code}` : ""}`);
      if (error.statusCode === 404) {
        return new AppBackupError(
          "STORAGE_NOT_FOUND",
          `Azure Storage could not ${action} at ${where}: ${code || "not found"}.`,
          "Check the account and container names; a SAS URL needs an existing container.",
        );
      }
      if (error.statusCode === 409 && code === "BlobAlreadyExists") {
        return new AppBackupError("STORAGE", `Could not ${action} at ${where}: it already exists and is never overwritten.`);
      }
      if (error.statusCode === 412 || (error.statusCode === 409 && /exist/i.test(code))) {
        return new AppBackupError("STORAGE", `Could not ${action} at ${where}: it already exists and is never overwritten.`);
      }
      if (error.statusCode === undefined || error.code === "REQUEST_SEND_ERROR") {
        return unreachable(action, where, networkReason(error), "Check the account URL and the network (DNS, firewall, proxy), then run again.");
      }
      if (error.statusCode >= 500) {
        // The SDK has retried it already: the service is down or overloaded for now.
        return new AppBackupError(
          "STORAGE_UNREACHABLE",
          `Could not ${action}: Azure Storage at ${where} kept answering HTTP ${error.statusCode}${code ? ` ${code}` : ""}, every retry included.`,
          "The service is unavailable or busy: run again later, and check the storage account's health in the Azure portal if it lasts.",
        );
      }
      return new AppBackupError("STORAGE", `Azure Storage could not ${action} at ${where} (HTTP ${error.statusCode} ${code}).`);
    }
    const name = (error as Error | undefined)?.name ?? "";
    if (/CredentialUnavailableError|AuthenticationError|AggregateAuthenticationError/.test(name)) {
      return new AppBackupError(
        "STORAGE_AUTH",
        `No Entra ID credential could get a token to ${action} at ${where}: ${firstLine(error)}`,
        "Sign in with `az login`, run where a managed identity is assigned, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a federated token). The identity needs the Storage Blob Data Contributor role on the container.",
      );
    }
    return unreachable(
      action,
      where,
      networkReason(error),
      "Check the account URL and the network (DNS, firewall, proxy), and for Entra ID that a credential is available, then run again.",
    );
  }

  /**
   * The service refused the credential: a SAS out of its term says so (the
   * service only answers AuthenticationFailed), anything else names what to check.
   */
  refused(action: string, reply?: string): AppBackupError {
    const where = this.location;
    const because = reply ? ` (${reply})` : "";
    const outOfTerm = outOfTermError(this.sas, action, where, reply);
    if (outOfTerm) return outOfTerm;
    return new AppBackupError(
      "STORAGE_AUTH",
      `Azure Storage refused to ${action} at ${where}${because}.`,
      this.sas
        ? `Check the SAS token: it must be signed with a current account key, be in force now, and grant ${sasPermissionsNeeded} on the container.`
        : "Check the account key or the identity: the key must be current, and an Entra ID identity needs the Storage Blob Data Contributor role on the container.",
    );
  }
}

/** Every action reads the same way: "Could not list the container: Azure Storage at … cannot be reached: …". */
function unreachable(action: string, where: string, reason: string, hint: string): AppBackupError {
  return new AppBackupError("STORAGE_UNREACHABLE", `Could not ${action}: Azure Storage at ${where} cannot be reached: ${reason}.`, hint);
}

function containerClientFor(spec: AzureSpec, pipelineOptions: StoragePipelineOptions): ListingContainerClient {
  switch (spec.kind) {
    case "azure-sas": {
      let url: URL;
      try {
        url = new URL(spec.containerUrl);
      } catch {
        throw storageValueError("backup.storage", "is not a valid container URL.", "is not a valid container URL.", "Use https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS.");
      }
      if (!url.search.includes("sig=")) {
        throw storageValueError(
          "backup.storage",
          `(${displayUrl(spec.containerUrl)}) has no SAS token.`,
          `the container URL ${displayUrl(spec.containerUrl)} has no SAS token.`,
          `Append a container SAS (?sv=...&sig=...) granting ${sasPermissionsNeeded}, or use {connectionString, container} or {accountUrl, container}.`,
        );
      }
      return new ListingContainerClient(spec.containerUrl, undefined, pipelineOptions);
    }
    case "azure-connection-string": {
      try {
        return new ListingContainerClient(spec.connectionString, spec.container, pipelineOptions);
      } catch {
        throw storageValueError(
          "backup.storage.connectionString",
          "is not a valid Azure Storage connection string.",
          "is not a valid Azure Storage connection string.",
          "Copy it from the storage account's Access keys page: DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net",
        );
      }
    }
    case "azure-identity": {
      // The SDK's own way from an account URL to a container's.
      const containerUrl = new BlobServiceClient(spec.accountUrl).getContainerClient(spec.container).url;
      return new ListingContainerClient(containerUrl, spec.credential ?? defaultCredential(), pipelineOptions);
    }
  }
}

/** A storage value that cannot be used, with its key as an issue so each front end names its own input. */
function storageValueError(key: string, afterKey: string, issue: string, hint: string): AppBackupError {
  return new AppBackupError("CONFIG_INVALID", `${key} ${afterKey}`, hint, { issues: [{ path: key, message: issue }] });
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1);
}

function firstLine(error: unknown): string {
  return redactPatterns(((error as Error)?.message ?? String(error)).split("\n")[0]!.trim());
}

function networkReason(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code && e.code !== "REQUEST_SEND_ERROR" ? e.code : e.cause?.code;
  const known: Record<string, string> = {
    ENOTFOUND: "the host name does not resolve",
    ECONNREFUSED: "the connection was refused",
    ETIMEDOUT: "the connection timed out",
    ECONNRESET: "the connection was reset",
    EAI_AGAIN: "the host name could not be resolved right now",
  };
  if (code && known[code]) return `${known[code]} (${code})`;
  const message = (e.message ?? String(error)).split("\n")[0]!;
  return message.replace(/https?:\/\/\S+/g, (url) => displayUrl(url));
}
