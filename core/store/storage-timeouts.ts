import { AppBackupError } from "../errors.js";

/** The overall deadline of one storage call, in milliseconds. */
export const storageTimeoutEnvVar = "APP_BACKUP_STORAGE_TIMEOUT_MS";
/** The first pause before a storage call is tried again, in milliseconds. */
export const storageRetryDelayEnvVar = "APP_BACKUP_STORAGE_RETRY_DELAY_MS";

/** Three minutes: long enough for an 8 MiB block on a slow link, short enough that a dead endpoint is noticed. */
const defaultOperationMs = 180_000;
const defaultRetryDelayMs = 400;
/** The service's own timeout is given in whole seconds, so a try gets at least one. */
const minTryMs = 1_000;

export interface StorageTimeouts {
  /** No storage call (all its tries together) runs longer than this. */
  operationMs: number;
  /**
   * One request waits this long for its reply, and a streaming read this long
   * for its next bytes; a third of the deadline, so a hung try leaves room to try again.
   */
  tryMs: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

export function storageTimeoutsFromEnv(env: NodeJS.ProcessEnv): StorageTimeouts {
  const operationMs = positiveMs(env, storageTimeoutEnvVar, defaultOperationMs);
  const retryDelayMs = positiveMs(env, storageRetryDelayEnvVar, defaultRetryDelayMs);
  return {
    operationMs,
    tryMs: Math.max(minTryMs, Math.floor(operationMs / 3)),
    retryDelayMs,
    maxRetryDelayMs: Math.max(retryDelayMs, Math.min(4_000, Math.floor(operationMs / 10))),
  };
}

function positiveMs(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const text = env[variable];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new AppBackupError("USAGE", `${variable} is "${text}"; expected a positive number of milliseconds.`, `Unset it to use ${fallback} ms.`);
  }
  return Math.round(value);
}
