import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { removePartialUploads, settleInterruptedRestore, type PartialUploads } from "../../core/index.js";

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
  if (recorded) removed.push(...(await removePartialUploads(JSON.parse(recorded) as PartialUploads)));
  const restoreHome = state.get(stateKeys.restoreHome);
  if (restoreHome && path.isAbsolute(restoreHome)) {
    const settled = await settleInterruptedRestore(restoreHome);
    recovered = settled.recovered;
    removed.push(...settled.removed);
  }
  return { removed, recovered };
}
