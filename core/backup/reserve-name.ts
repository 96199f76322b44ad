import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AppBackupError } from "../errors.js";
import { backupNameFor, blobNames, MAX_BACKUP_SEQUENCE } from "../format/backup-name.js";
import type { BackupTrigger } from "../format/manifest.js";
import { lockTtlFromEnv } from "../schedule/lock.js";
import type { StoreLock } from "../store/locker.js";
import type { Store } from "../store/store.js";

/**
 * The lock that claims a backup's name while the backup runs. It does not
 * start with the app's name and ends in none of a backup's extensions, so
 * neither `list` nor anything looking for a backup's objects takes it for
 * part of one. (A local folder keeps it as `claim.{name}.txt.{generation}`.)
 */
export const claimNameOf = (backupName: string) => `claim.${backupName}.txt`;

/** The backup name a claim object claims, when the object is one. */
export function claimedNameOf(objectName: string): string | undefined {
  return /^claim\.(.+)\.txt(?:\.\d{1,15})?$/.exec(objectName)?.[1];
}

/** A backup name held by this run until `release`. */
export interface NameClaim {
  name: string;
  /** Gives the name up and removes the claim; never fails the backup. */
  release(): Promise<void>;
}

/**
 * Claims a backup's name before anything else is written, as a lock that
 * lives only while the backup renews it: of two runs that want the same name,
 * exactly one gets it, and the claim of a run that was killed expires by
 * itself within the lock's time-to-live (`APP_BACKUP_LOCK_TTL_SECONDS`),
 * so neither a retry with the same `--name` nor the next scheduled run is
 * blocked for long.
 *
 * A name of the user's is used as given or refused. A stamped name moves on
 * to `-2`, `-3`, ... when another backup of the app took it in the same second.
 */
export async function claimBackupName(
  store: Store,
  request: { appName: string; startedAt: Date; trigger: BackupTrigger; givenName?: string; ttlMs?: number; onWarning?: (message: string) => void },
): Promise<NameClaim> {
  const ttlMs = request.ttlMs ?? lockTtlFromEnv(process.env);
  const holder = `${request.trigger} backup of ${request.appName} started at ${request.startedAt.toISOString()} (pid ${process.pid} on ${hostname()})`;
  if (request.givenName !== undefined) {
    const name = request.givenName;
    const claim = (await isFree(store, name)) ? await tryClaim(store, name, ttlMs, holder) : undefined;
    if (claim instanceof ClaimTaken) {
      throw new AppBackupError(
        "LOCKED",
        `Another backup named ${name} is running in ${store.location}; nothing was written.`,
        "Choose another --name, or run again once that backup has finished (the claim of a backup that was stopped expires by itself within a minute).",
      );
    }
    if (!claim) throw new AppBackupError("USAGE", `A backup named ${name} already exists in ${store.location}.`, "Choose another --name; backups are never overwritten.");
    return holdClaim(store, name, claim, request.onWarning);
  }
  for (let sequence = 1; sequence <= MAX_BACKUP_SEQUENCE; sequence++) {
    const name = backupNameFor(request.appName, request.startedAt, sequence);
    if (!(await isFree(store, name))) continue;
    let claim = await tryClaim(store, name, ttlMs, holder);
    // A scheduled run holds the app's lock, so a claim on its slot's name is left by a run that was
    // stopped (its lock expired just before): wait for the claim to expire too, and keep the slot's name.
    if (claim instanceof ClaimTaken && request.trigger === "Scheduled" && sequence === 1) {
      await sleep(claim.waitMs(ttlMs));
      claim = (await isFree(store, name)) ? await tryClaim(store, name, ttlMs, holder) : undefined;
    }
    if (claim && !(claim instanceof ClaimTaken)) return holdClaim(store, name, claim, request.onWarning);
  }
  throw new AppBackupError(
    "LOCKED",
    `Another backup of ${request.appName} began in the same second (${backupNameFor(request.appName, request.startedAt)}), and every name for that second is taken; nothing was written.`,
    "Run the backup again in a moment.",
  );
}

/** Another run holds the name's claim, until `expiresAt` unless it renews it. */
class ClaimTaken {
  constructor(private readonly expiresAt: Date | undefined) {}

  /** How long to wait for the claim to run out if its holder is gone (a lease's length where unknown). */
  waitMs(ttlMs: number): number {
    const known = this.expiresAt ? this.expiresAt.getTime() - Date.now() : Math.min(60_000, Math.max(15_000, ttlMs));
    return Math.min(60_000, Math.max(0, known)) + 500;
  }
}

async function tryClaim(store: Store, name: string, ttlMs: number, holder: string): Promise<StoreLock | ClaimTaken | undefined> {
  const attempt = await store.locker.tryLock(claimNameOf(name), { ttlMs, holder });
  if (!attempt.acquired) return new ClaimTaken(attempt.expiresAt);
  // A backup that finished between the first look and the claim holds the name for good.
  if (await isFree(store, name)) return attempt.lock;
  await attempt.lock.discard().catch(() => undefined);
  return undefined;
}

/** Renews the claim every third of its time-to-live until released. */
function holdClaim(store: Store, name: string, lock: StoreLock, onWarning?: (message: string) => void): NameClaim {
  let renewing: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = lock
      .renew()
      .catch((error: unknown) => onWarning?.(`Could not renew the claim on the name ${name} in ${store.location}: ${(error as Error).message}`))
      .finally(() => (renewing = undefined));
  }, Math.max(250, Math.floor(lock.ttlMs / 3)));
  timer.unref();
  return {
    name,
    async release() {
      clearInterval(timer);
      await renewing;
      await lock.discard().catch(() => undefined);
    },
  };
}

/** A zip or manifest under the name belongs to an earlier backup, finished or interrupted. */
async function isFree(store: Store, name: string): Promise<boolean> {
  const names = blobNames(name);
  return !(await store.exists(names.manifest)) && !(await store.exists(names.zip));
}
