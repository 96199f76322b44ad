import os from "node:os";
import { AppBackupError } from "../errors.js";
import { createJournal, isRunning, lockedError, readJournal, type RestoreJournal } from "./journal.js";
import { recoverInterruptedRestore } from "./switch.js";
import type { TargetPlan } from "./target-plan.js";

/** Takes the journal (the home's restore lock), after finishing any interrupted restore that appears meanwhile. */
export async function acquireJournal(home: string, id: string, backup: string, plan: TargetPlan): Promise<RestoreJournal> {
  const journal: RestoreJournal = {
    formatVersion: 1,
    id,
    backup,
    home,
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    phase: "staging",
    kept: plan.kept.map((k) => k.path),
    databasesRestored: [],
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await createJournal(journal)) return journal;
    const other = readJournal(home);
    if (other && isRunning(other)) throw lockedError(other);
    await recoverInterruptedRestore(home);
  }
  throw new AppBackupError("LOCKED", `Another restore keeps starting on ${home}; nothing was done.`, "Run the restore again once the other one is finished.");
}
