import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { blobNames } from "../format/backup-name.js";
import { claimNameOf } from "../backup/reserve-name.js";
import { removeStrayStaging } from "../restore/journal.js";
import { recoverInterruptedRestore } from "../restore/switch.js";
import { partialPrefix } from "../store/partial-file.js";

/** Uploads into a local container that a stopped backup would leave half-written. */
export interface PartialUploads {
  container: string;
  backupName: string;
}

/**
 * The local store stages each object as `.partial-<random>-<name>`; only the
 * ones of this backup are removed, with its claim on the name, so a concurrent
 * backup of another app into the same folder is left alone. Returns the paths removed.
 */
export async function removePartialUploads({ container, backupName }: PartialUploads): Promise<string[]> {
  const names = Object.values(blobNames(backupName));
  let entries: string[];
  try {
    entries = await readdir(container);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const claim = claimNameOf(backupName);
  for (const entry of entries) {
    // The backup's claim on the name: its holder is stopped, so nobody else may be waiting for it.
    if (entry.startsWith(`${claim}.`) && /^\d+$/.test(entry.slice(claim.length + 1))) {
      await rm(path.join(container, entry), { force: true });
      removed.push(path.join(container, entry));
      continue;
    }
    if (!entry.startsWith(partialPrefix)) continue;
    const rest = entry.slice(partialPrefix.length);
    if (names.some((name) => rest.endsWith(`-${name}`) && /^[0-9a-f]+$/.test(rest.slice(0, rest.length - name.length - 1)))) {
      await rm(path.join(container, entry), { force: true });
      removed.push(path.join(container, entry));
    }
  }
  return removed;
}

export interface SettledRestore {
  /** Staging folders removed. */
  removed: string[];
  /** What was done about the restore that was stopped, for a person to read. */
  recovered?: string;
}

/**
 * Settles a restore of `home` that was stopped: staging stopped before the
 * switch is rolled back (the home was never touched); a switch under way is completed.
 */
export async function settleInterruptedRestore(home: string): Promise<SettledRestore> {
  let recovered: string | undefined;
  const recovery = await recoverInterruptedRestore(home);
  if (recovery) {
    recovered = `The restore of ${recovery.backup} into ${home} was interrupted; it was ${recovery.action}.${
      recovery.databasesRestored.length ? ` It had restored database(s) ${recovery.databasesRestored.join(", ")}.` : ""
    }`;
  }
  return { removed: await removeStrayStaging(home), recovered };
}
