import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { blobNames } from "../../core/backup/name.js";
import { claimNameOf } from "../../core/backup/reserve-name.js";
import { removeStrayStaging } from "../../core/restore/journal.js";
import { recoverInterruptedRestore } from "../../core/restore/switch.js";
import { partialPrefix } from "../../core/store/local.js";

/** What the main step records for the post step; the runner hands it back as `STATE_<key>`. */
export const stateKeys = {
  tempDir: "temp-dir",
  partialUploads: "partial-uploads",
  restoreHome: "restore-home",
} as const;

export interface StateStore {
  save(name: string, value: string): void;
  get(name: string): string;
}

/** Uploads into a local container that a cancelled step would leave half-written. */
export interface PartialUploads {
  container: string;
  backupName: string;
}

/**
 * A private temp folder for the step under RUNNER_TEMP, recorded before any work
 * starts and made the process's TMPDIR, so whatever the operation stages there
 * goes when the post step runs, even if the job was cancelled midway.
 */
export async function createStepTempDir(state: StateStore, parent: string = process.env.RUNNER_TEMP || os.tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(parent, "app-backup-"));
  state.save(stateKeys.tempDir, dir);
  process.env.TMPDIR = dir;
  return dir;
}

export function recordPartialUploads(state: StateStore, uploads: PartialUploads): void {
  state.save(stateKeys.partialUploads, JSON.stringify(uploads));
}

/** The home a restore is about to change; its journal says what a stopped restore left. */
export function recordRestoreTarget(state: StateStore, home: string): void {
  state.save(stateKeys.restoreHome, home);
}

export interface CleanUpReport {
  /** Paths removed. */
  removed: string[];
  /** What was done about a restore the main step did not finish. */
  recovered?: string;
}

/** Removes what the main step recorded and settles a restore it left unfinished. */
export async function cleanUp(state: StateStore): Promise<CleanUpReport> {
  const removed: string[] = [];
  let recovered: string | undefined;
  const tempDir = state.get(stateKeys.tempDir);
  if (tempDir && path.isAbsolute(tempDir) && path.basename(tempDir).startsWith("app-backup-")) {
    const existed = await readdir(tempDir).then(
      () => true,
      () => false,
    );
    await rm(tempDir, { recursive: true, force: true });
    if (existed) removed.push(tempDir);
  }
  const recorded = state.get(stateKeys.partialUploads);
  if (recorded) {
    const uploads = JSON.parse(recorded) as PartialUploads;
    removed.push(...(await removePartialUploads(uploads)));
  }
  const restoreHome = state.get(stateKeys.restoreHome);
  if (restoreHome && path.isAbsolute(restoreHome)) {
    // Staging stopped before the switch is rolled back (the home was never touched); a switch under way is completed.
    const recovery = await recoverInterruptedRestore(restoreHome);
    if (recovery) {
      recovered = `The restore of ${recovery.backup} into ${restoreHome} was interrupted; it was ${recovery.action}.${
        recovery.databasesRestored.length ? ` It had restored database(s) ${recovery.databasesRestored.join(", ")}.` : ""
      }`;
    }
    removed.push(...(await removeStrayStaging(restoreHome)));
  }
  return { removed, recovered };
}

/**
 * The local store stages each object as `.partial-<random>-<name>`; only the
 * ones of this step's backup are removed, with its claim on the name, so a
 * concurrent backup of another app into the same folder is left alone.
 */
async function removePartialUploads({ container, backupName }: PartialUploads): Promise<string[]> {
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
    // The step's claim on the name: its holder is stopped, so nobody else may be waiting for it.
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
