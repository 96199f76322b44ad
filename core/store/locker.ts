/**
 * Exclusive locks that expire by themselves, kept beside the backups. The
 * engine takes app locks and backup name claims through this alone; each kind
 * of container keeps its own implementation (generation files in a folder,
 * blob leases in Azure).
 */
export interface Locker {
  /**
   * Takes an exclusive lock named `name` that expires by itself `ttlMs` after
   * its last renewal, so a holder that crashed never blocks others for long.
   * Resolves without a lock when another holder has it.
   */
  tryLock(name: string, options: LockOptions): Promise<LockAttempt>;
}

export interface LockOptions {
  /** How long the lock lives without renewal. */
  ttlMs: number;
  /** Who holds it (process, host, purpose), shown to whoever finds it taken. */
  holder: string;
}

export type LockAttempt =
  | { acquired: true; lock: StoreLock }
  | { acquired: false; holder?: string; expiresAt?: Date };

/** A held lock: renew it well within its time-to-live, release it when done. */
export interface StoreLock {
  readonly ttlMs: number;
  /** Extends the lock; rejects with a LOCKED error when it expired and someone else took it. */
  renew(): Promise<void>;
  /** Gives the lock up; does nothing when it was already lost. */
  release(): Promise<void>;
  /**
   * Gives the lock up and removes its object, for a lock whose name is used
   * once (a backup name's claim); does nothing when it was already lost.
   */
  discard(): Promise<void>;
}
