import { chmodSync, lstatSync, mkdirSync, renameSync, utimesSync } from "node:fs";
import path from "node:path";
import { exactTime, exists, lstatOrUndefined, removeTree, syncFolder } from "./fs-steps.js";
import { deleteJournal, readJournal, isRunning, lockedError, restorePaths, writeJournal, type RestoreJournal } from "./journal.js";

/**
 * Puts the staged tree in place of the home. Every step is a rename on the
 * home's file system and is done only if it has not been done yet, so the same
 * function finishes a switch that a crash interrupted at any point:
 *
 * 1. each kept path moves from the old home into the staged tree;
 * 2. the old home is renamed aside;
 * 3. the staged tree is renamed to the home;
 * 4. the old home and the dumps are deleted, then the journal.
 */
export async function completeSwitch(journal: RestoreJournal): Promise<void> {
  const paths = restorePaths(journal.home, journal.id);
  const { home } = journal;
  if (exists(paths.tree)) {
    if (exists(home)) {
      for (const kept of journal.kept) moveKept(home, paths.tree, kept);
      renameSync(home, paths.previous);
    }
    renameSync(paths.tree, home);
    syncFolder(path.dirname(home));
  }
  if (journal.phase !== "cleaning") await writeJournal({ ...journal, phase: "cleaning" });
  await removeTree(paths.previous);
  await removeTree(paths.dumps);
  await deleteJournal(home);
}

/** Undoes a restore that had not started switching: the home was never touched. */
export async function rollBack(journal: RestoreJournal): Promise<void> {
  const paths = restorePaths(journal.home, journal.id);
  await removeTree(paths.tree);
  await removeTree(paths.dumps);
  await removeTree(paths.previous);
  await deleteJournal(journal.home);
}

/**
 * Moves one kept path from the old home into the same place in the staged
 * tree, creating missing parent folders like the old ones, and leaves the
 * parent's mode and time as staged.
 */
function moveKept(oldHome: string, tree: string, relative: string): void {
  const source = path.join(oldHome, ...relative.split("/"));
  const target = path.join(tree, ...relative.split("/"));
  if (!exists(source) || exists(target)) return;
  const parent = path.dirname(target);
  ensureParents(oldHome, tree, path.dirname(relative));
  const before = lstatSync(parent);
  const mustOpen = process.getuid?.() !== 0 && (before.mode & 0o300) !== 0o300;
  if (mustOpen) chmodSync(parent, (before.mode & 0o7777) | 0o300);
  try {
    renameSync(source, target);
  } finally {
    if (mustOpen) chmodSync(parent, before.mode & 0o7777);
    utimesSync(parent, exactTime(before.atimeMs), exactTime(before.mtimeMs));
  }
}

function ensureParents(oldHome: string, tree: string, relativeFolder: string): void {
  if (relativeFolder === "." || relativeFolder === "") return;
  const segments = relativeFolder.split("/");
  for (let depth = 1; depth <= segments.length; depth++) {
    const relative = segments.slice(0, depth);
    const target = path.join(tree, ...relative);
    if (exists(target)) continue;
    const like = lstatOrUndefined(path.join(oldHome, ...relative));
    mkdirSync(target, { mode: like?.isDirectory() ? like.mode & 0o7777 : 0o755 });
    if (like?.isDirectory()) utimesSync(target, exactTime(like.atimeMs), exactTime(like.mtimeMs));
  }
}

/** What a run found and did about a restore that an earlier run left unfinished. */
export interface Recovery {
  backup: string;
  startedAt: string;
  action: "rolled back" | "completed";
  /** Databases the interrupted run had restored before it stopped. */
  databasesRestored: string[];
}

/**
 * Finishes or undoes a restore of `home` that was killed: one that had not
 * started switching is rolled back (the home was never touched), one that had
 * is completed (its files were verified and its databases already restored).
 * Throws LOCKED if that restore is in fact still running.
 */
export async function recoverInterruptedRestore(home: string): Promise<Recovery | undefined> {
  const journal = readJournal(home);
  if (!journal) return undefined;
  if (isRunning(journal)) throw lockedError(journal);
  const recovery: Recovery = {
    backup: journal.backup,
    startedAt: journal.startedAt,
    action: journal.phase === "staging" ? "rolled back" : "completed",
    databasesRestored: journal.databasesRestored,
  };
  if (journal.phase === "staging") await rollBack(journal);
  else await completeSwitch(journal);
  return recovery;
}
