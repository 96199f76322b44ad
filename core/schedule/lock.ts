import { hostname } from "node:os";
import { AppBackupError } from "../errors.js";
import type { Store } from "../store/store.js";

/** Seconds a runner's lock lives without renewal; Azure leases are clamped to 15-60 s. */
export const lockTtlEnvVar = "APP_BACKUP_LOCK_TTL_SECONDS";
export const defaultLockTtlMs = 60_000;

/** The lock object beside an app's backups. */
export const lockNameFor = (appName: string) => `${appName}.lock`;

/** The lock's time-to-live from `APP_BACKUP_LOCK_TTL_SECONDS`, or the default of 60 s. */
export function lockTtlFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env[lockTtlEnvVar];
  if (text === undefined || text.trim() === "") return defaultLockTtlMs;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new AppBackupError("USAGE", `${lockTtlEnvVar} is "${text}"; expected a positive number of seconds.`, `Unset it to use ${defaultLockTtlMs / 1000} s.`);
  }
  return Math.round(seconds * 1000);
}

export interface AppLockOptions {
  ttlMs?: number;
  /** What the holder is doing, e.g. "run-scheduled"; the process and host are added. */
  purpose?: string;
  /** Told when a renewal fails or the lock is lost while the work runs. */
  onWarning?: (message: string) => void;
}

/**
 * Runs `work` while holding the app's lock, renewing it every third of its
 * time-to-live. When another runner holds it, nothing runs and a LOCKED error
 * (exit code 75) says who holds it. A holder that crashes stops renewing, and
 * its lock expires by itself.
 */
export async function withAppLock<T>(store: Store, appName: string, work: () => Promise<T>, options: AppLockOptions = {}): Promise<T> {
  const ttlMs = options.ttlMs ?? defaultLockTtlMs;
  const name = lockNameFor(appName);
  const holder = `${options.purpose ?? "app-backup"} (pid ${process.pid} on ${hostname()})`;
  const attempt = await store.locker.tryLock(name, { ttlMs, holder });
  if (!attempt.acquired) {
    const until = attempt.expiresAt ? `, until ${attempt.expiresAt.toISOString()} unless renewed` : "";
    throw new AppBackupError(
      "LOCKED",
      `Another runner holds the lock of ${appName} (${attempt.holder ?? "holder unknown"}${until}); nothing was done.`,
      `The lock ${name} in ${store.location} expires by itself shortly after its holder stops; run again later.`,
    );
  }
  const lock = attempt.lock;
  let lost = false;
  let renewing: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (lost || renewing) return;
    renewing = lock
      .renew()
      .catch((error: unknown) => {
        if (error instanceof AppBackupError && error.code === "LOCKED") {
          lost = true;
          options.onWarning?.(`${error.message} ${error.hint ?? ""}`.trim());
        } else {
          options.onWarning?.(`Could not renew the lock ${name}; retrying: ${(error as Error).message}`);
        }
      })
      .finally(() => (renewing = undefined));
  }, Math.max(250, Math.floor(lock.ttlMs / 3)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
    await lock.release().catch((error: unknown) => options.onWarning?.(`Could not release the lock ${name}: ${(error as Error).message}`));
  }
}
