import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { listBackups, type BackupListing } from "../../core/catalog/catalog.js";
import { resolveConfig } from "../../core/config/load.js";
import type { AppBackupOptions } from "../../core/options.js";
import { verifyBackup } from "../../core/restore/verify.js";
import { AzureBlobStore } from "../../core/store/azure.js";
import type { Azurite } from "./azurite.js";

/**
 * Short storage deadlines and tiny retry pauses, so a hung request costs a
 * second rather than minutes; set before any store is opened.
 */
export const faultEnv = {
  APP_BACKUP_STORAGE_TIMEOUT_MS: "3000",
  APP_BACKUP_STORAGE_RETRY_DELAY_MS: "20",
};

export function useFaultEnv(): void {
  Object.assign(process.env, faultEnv);
}

/** A small app home: nested folders, an empty one, a symlink and fixed times. */
export async function makeHome(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "faults-"));
  const home = path.join(dir, "home");
  await mkdir(path.join(home, "site/wwwroot/css"), { recursive: true });
  await mkdir(path.join(home, "site/wwwroot/empty"), { recursive: true });
  await writeFile(path.join(home, "site/wwwroot/index.html"), "<h1>shop</h1>\n".repeat(200));
  await writeFile(path.join(home, "site/wwwroot/css/site.css"), "body{}\n");
  await writeFile(path.join(home, "site/wwwroot/photo.jpg"), randomBytes(40_000));
  await symlink("css/site.css", path.join(home, "site/wwwroot/style.css"));
  const at = new Date("2025-03-04T05:06:07.000Z");
  await utimes(path.join(home, "site/wwwroot/index.html"), at, at);
  return home;
}

let containers = 0;

/** A fresh container's name: one per matrix cell, so cells never see each other's backups. */
export function freshContainer(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${(containers++).toString(36)}`;
}

/** The app's options with storage `{ connectionString, container }`. */
export function optionsFor(home: string, connectionString: string, container: string, extra: Record<string, unknown> = {}): AppBackupOptions {
  return resolveConfig(
    { name: "shop", home, ...extra, backup: { storage: { connectionString, container }, ...((extra.backup as object) ?? {}) } },
    { baseDir: path.dirname(home) },
  );
}

/** A store on the container that bypasses the proxy: what a user checking afterwards sees. */
export function directStore(azurite: Azurite, container: string): AzureBlobStore {
  return new AzureBlobStore({ kind: "azure-connection-string", connectionString: azurite.connectionString, container });
}

export type Outcome = { status: string; name: string } | { error: Error };

/**
 * What the user would check after a backup, held against what was reported:
 * the listing agrees with the reported status, every backup listed as
 * restorable verifies with every byte read, nothing listed as Failed can be
 * restored, and a backup that reported an error left nothing restorable.
 */
export async function expectStorageAgrees(options: AppBackupOptions, store: AzureBlobStore, outcome: Outcome): Promise<BackupListing[]> {
  const listings = await listBackups(store, { appName: options.app.name });
  for (const listing of listings) {
    if (listing.status === "Succeeded" || listing.status === "PartiallySucceeded") {
      const verified = await verifyBackup(options, { backup: listing.name, store, readData: true });
      expect(verified, `${listing.name} is listed as ${listing.status}`).toMatchObject({ ok: true, restorable: true, differences: [] });
    } else {
      const verified = await verifyBackup(options, { backup: listing.name, store, readData: true }).catch((error: Error) => error);
      if (!(verified instanceof Error)) expect(verified.restorable, `${listing.name} is listed as Failed`).toBe(false);
    }
  }
  if ("error" in outcome) {
    expect(listings.filter((l) => l.status !== "Failed"), "a backup that reported an error left something restorable").toEqual([]);
  } else {
    expect(listings.map((l) => [l.name, l.status])).toEqual([[outcome.name, outcome.status]]);
  }
  return listings;
}
