import * as core from "@actions/core";
import { cleanUp } from "./temporary-files.js";

/**
 * The post step: removes the temp folder and half-written uploads the main step
 * recorded, and rolls back (or completes) a restore it did not finish. It runs
 * after the job is cancelled too, when the main step was stopped midway; after
 * a normal run there is nothing left to do.
 */
export async function runPost(): Promise<void> {
  try {
    const { removed, recovered } = await cleanUp({ save: (name, value) => core.saveState(name, value), get: (name) => core.getState(name) });
    for (const item of removed) core.info(`Removed ${item}, left behind by an interrupted app-backup step.`);
    if (recovered) core.warning(recovered);
  } catch (error) {
    // The post step never fails the job: what it could not settle, the next restore of that home settles.
    core.warning(`app-backup could not clean up after the step: ${(error as Error).message}`);
  }
}
