import { randomUUID } from "node:crypto";
import { RestError, type BlobLeaseClient, type BlockBlobClient } from "@azure/storage-blob";
import { AppBackupError } from "../errors.js";
import type { AzureBlobStore } from "./azure.js";
import type { LockAttempt, LockOptions, StoreLock } from "./store.js";

/** Azure's limits for a finite blob lease. */
const minLeaseSeconds = 15;
const maxLeaseSeconds = 60;

/**
 * A lock as a lease on a small blob: Azure grants a lease to one client at a
 * time and ends it by itself when it is not renewed, so a crashed holder
 * blocks others for at most one lease duration.
 */
export async function tryAzureLock(store: AzureBlobStore, name: string, options: LockOptions): Promise<LockAttempt> {
  const seconds = Math.min(maxLeaseSeconds, Math.max(minLeaseSeconds, Math.round(options.ttlMs / 1000)));
  const blob = store.container.getBlockBlobClient(name);
  for (let attempt = 0; attempt < 3; attempt++) {
    await ensureExists(store, blob, name);
    const lease = blob.getBlobLeaseClient(randomUUID());
    try {
      await lease.acquireLease(seconds);
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) {
        return { acquired: false, holder: await holderOf(blob) };
      }
      // Deleted between creating and leasing it: create it again.
      if (error instanceof RestError && error.statusCode === 404) continue;
      throw store.describe(error, `lease ${name}`);
    }
    await store.call(`lease ${name}`, () =>
      blob.setMetadata(
        { holder: encodeURIComponent(options.holder), acquiredat: new Date().toISOString() },
        { conditions: { leaseId: lease.leaseId } },
      ),
    );
    return { acquired: true, lock: new AzureLeaseLock(store, name, lease, seconds * 1000) };
  }
  throw new AppBackupError("STORAGE", `The lock blob ${name} at ${store.location} keeps disappearing; it cannot be leased.`);
}

class AzureLeaseLock implements StoreLock {
  private released = false;

  constructor(
    private readonly store: AzureBlobStore,
    private readonly name: string,
    private readonly lease: BlobLeaseClient,
    readonly ttlMs: number,
  ) {}

  async renew(): Promise<void> {
    try {
      await this.lease.renewLease();
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

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.lease.releaseLease();
    } catch (error) {
      // Already expired and taken: there is nothing left to give up.
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return;
      throw this.store.describe(error, `release the lease on ${this.name}`);
    }
  }
}

async function ensureExists(store: AzureBlobStore, blob: BlockBlobClient, name: string): Promise<void> {
  try {
    await blob.upload("", 0, { conditions: { ifNoneMatch: "*" }, blobHTTPHeaders: { blobContentType: "text/plain" } });
  } catch (error) {
    // 409: it exists; 412: it exists and is leased right now. Both are fine.
    if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return;
    throw store.describe(error, `create the lock blob ${name}`);
  }
}

async function holderOf(blob: BlockBlobClient): Promise<string | undefined> {
  try {
    const holder = (await blob.getProperties()).metadata?.holder;
    return holder ? decodeURIComponent(holder) : undefined;
  } catch {
    return undefined;
  }
}
