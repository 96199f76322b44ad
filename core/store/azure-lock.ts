import { randomUUID } from "node:crypto";
import { RestError, type BlobLeaseClient, type BlockBlobClient } from "@azure/storage-blob";
import { AppBackupError } from "../errors.js";
import type { AzureConnection } from "./azure-connection.js";
import type { LockAttempt, Locker, LockOptions, StoreLock } from "./locker.js";

/** Azure's limits for a finite blob lease. */
const minLeaseSeconds = 15;
const maxLeaseSeconds = 60;

/** The locks of an Azure container. */
export class AzureLocker implements Locker {
  constructor(private readonly connection: AzureConnection) {}

  async tryLock(name: string, options: LockOptions): Promise<LockAttempt> {
    return tryAzureLock(this.connection, name, options);
  }
}

/**
 * A lock as a lease on a small blob: Azure grants a lease to one client at a
 * time and ends it by itself when it is not renewed, so a crashed holder
 * blocks others for at most one lease duration.
 */
async function tryAzureLock(store: AzureConnection, name: string, options: LockOptions): Promise<LockAttempt> {
  const seconds = Math.min(maxLeaseSeconds, Math.max(minLeaseSeconds, Math.round(options.ttlMs / 1000)));
  const blob = store.blob(name);
  for (let attempt = 0; attempt < 3; attempt++) {
    await ensureExists(store, blob, name);
    const lease = blob.getBlobLeaseClient(randomUUID());
    try {
      await store.attempt(`lease ${name}`, (abortSignal) => lease.acquireLease(seconds, { abortSignal }));
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) {
        // A try whose reply was lost may have taken the lease already: renewing it under this id proves it.
        if (await holdsLease(store, lease, name)) return acquired(store, blob, name, lease, seconds, options);
        return { acquired: false, holder: await holderOf(store, blob, name) };
      }
      // Deleted between creating and leasing it: create it again.
      if (error instanceof RestError && error.statusCode === 404) continue;
      throw store.describe(error, `lease ${name}`);
    }
    return acquired(store, blob, name, lease, seconds, options);
  }
  throw new AppBackupError("STORAGE", `The lock blob ${name} at ${store.location} keeps disappearing; it cannot be leased.`);
}

async function acquired(
  store: AzureConnection,
  blob: BlockBlobClient,
  name: string,
  lease: BlobLeaseClient,
  seconds: number,
  options: LockOptions,
): Promise<LockAttempt> {
  await store.call(`lease ${name}`, (abortSignal) =>
    blob.setMetadata(
      { holder: encodeURIComponent(options.holder), acquiredat: new Date().toISOString() },
      { conditions: { leaseId: lease.leaseId }, abortSignal },
    ),
  );
  return { acquired: true, lock: new AzureLeaseLock(store, name, lease, seconds * 1000) };
}

async function holdsLease(store: AzureConnection, lease: BlobLeaseClient, name: string): Promise<boolean> {
  try {
    await store.attempt(`lease ${name}`, (abortSignal) => lease.renewLease({ abortSignal }));
    return true;
  } catch (error) {
    if (error instanceof RestError && error.statusCode !== undefined && error.statusCode < 500) return false;
    throw store.describe(error, `lease ${name}`);
  }
}

class AzureLeaseLock implements StoreLock {
  private released = false;

  constructor(
    private readonly store: AzureConnection,
    private readonly name: string,
    private readonly lease: BlobLeaseClient,
    readonly ttlMs: number,
  ) {}

  async renew(): Promise<void> {
    try {
      await this.store.attempt(`renew the lease on ${this.name}`, (abortSignal) => this.lease.renewLease({ abortSignal }));
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) {
        throw new AppBackupError(
          "LOCKED",
          `The lease on ${this.name} at ${this.store.location} expired before it was renewed and was taken by another runner.`,
          "Another runner may be backing up the same app now; check the network between this runner and the storage account.",
        );
      }
      throw this.store.describe(error, `renew the lease on ${this.name}`);
    }
  }

  async discard(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      // Deleting under the lease removes the object and the lock in one step.
      await this.store.attempt(`delete ${this.name}`, (abortSignal) =>
        this.store.container.getBlobClient(this.name).deleteIfExists({ conditions: { leaseId: this.lease.leaseId }, abortSignal }),
      );
    } catch (error) {
      // Already expired and taken: the object is someone else's now.
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return;
      throw this.store.describe(error, `delete ${this.name}`);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.store.attempt(`release the lease on ${this.name}`, (abortSignal) => this.lease.releaseLease({ abortSignal }));
    } catch (error) {
      // Already expired and taken: there is nothing left to give up.
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return;
      throw this.store.describe(error, `release the lease on ${this.name}`);
    }
  }
}

async function ensureExists(store: AzureConnection, blob: BlockBlobClient, name: string): Promise<void> {
  try {
    await store.attempt(`create the lock blob ${name}`, (abortSignal) =>
      blob.upload("", 0, { conditions: { ifNoneMatch: "*" }, blobHTTPHeaders: { blobContentType: "text/plain" }, abortSignal }),
    );
  } catch (error) {
    // 409: it exists; 412: it exists and is leased right now. Both are fine.
    if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return;
    throw store.describe(error, `create the lock blob ${name}`);
  }
}

async function holderOf(store: AzureConnection, blob: BlockBlobClient, name: string): Promise<string | undefined> {
  try {
    const holder = (await store.attempt(`read the lock ${name}`, (abortSignal) => blob.getProperties({ abortSignal }))).metadata?.holder;
    return holder ? decodeURIComponent(holder) : undefined;
  } catch {
    return undefined;
  }
}
