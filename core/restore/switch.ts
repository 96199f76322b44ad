import { chmodSync, lchownSync, lstatSync, mkdirSync, renameSync, utimesSync, type Stats } from "node:fs";
import path from "node:path";
import { AppBackupError } from "../errors.js";
import { removeTree } from "../fs/tree-removal.js";
import { exactTime, exists, firstNonFolder, lstatOrUndefined, syncFolder } from "./fs-steps.js";
import { assertJournalOf, deleteJournal, journalPathOf, readJournal, isRunning, lockedError, restorePaths, type RestoreJournal } from "./journal.js";

/**
 * Puts the staged tree in place of the home. Every step is a rename on the
 * home's file system and is done only if it has not been done yet, so the same
 * function finishes a switch that a crash interrupted at any point:
 *
 * 1. each kept path moves from the old home into the staged tree;
 * 2. the old home is renamed aside;
 * 3. the staged tree is renamed to the home;
 * 4. the old home (with `removeOldHome`: the restore's workers share it out) and the dumps are deleted, then the journal.
 *
 * Once the staged tree is gone, the switch is done (the rename that took it
 * is made durable at once); a journal still `switching` then leads only to
 * step 4.
 *
 * The journal must be the one of `home`: its recorded home is checked, never
 * trusted. Every folder a kept path is moved out of or into is checked to be
 * a real folder first, so no rename, mkdir or time change goes through a link.
 */
export async function completeSwitch(home: string, journal: RestoreJournal, removeOldHome: (tree: string) => Promise<void> = removeTree): Promise<void> {
  assertJournalOf(home, journal);
  const paths = restorePaths(home, journal.id);
  const tree = lstatOrUndefined(paths.tree);
  if (tree && !tree.isDirectory()) throw switchBlockedError(home, journal, `${paths.tree} is not a folder`);
  if (tree) {
    const homeInfo = lstatOrUndefined(home);
    if (homeInfo) {
      // Checked for every kept path before any is moved, so a refusal leaves everything where it was.
      const moves = homeInfo.isDirectory() ? journal.kept.map((kept) => planKeptMove(home, paths.tree, kept, journal)).filter((m) => m !== undefined) : [];
      for (const move of moves) moveKept(home, paths.tree, move);
      renameSync(home, paths.previous);
    }
    renameSync(paths.tree, home);
    syncFolder(path.dirname(home));
  }
  // Not recorded as `cleaning`: a run that finds this journal still `switching`
  // sees the staged tree gone and only deletes what is left, as it would then.
  await removeOldHome(paths.previous);
  await removeTree(paths.dumps);
  await deleteJournal(home);
}

/** Undoes a restore that had not started switching: the home was never touched. */
export async function rollBack(home: string, journal: RestoreJournal): Promise<void> {
  assertJournalOf(home, journal);
  const paths = restorePaths(home, journal.id);
  await removeTree(paths.tree);
  await removeTree(paths.dumps);
  await removeTree(paths.previous);
  await deleteJournal(home);
}

/**
 * The segments of a kept path that is to move, or undefined. A kept path is
 * one reached from the old home through real folders only: behind a link (put
 * there since the plan) it is not in the home and is left alone. In the staged
 * tree its parents must be real folders or missing; a link or a file there
 * would carry it out of the home, so the switch is refused.
 */
function planKeptMove(oldHome: string, tree: string, relative: string, journal: RestoreJournal): string[] | undefined {
  const segments = relative.split("/");
  const parents = segments.slice(0, -1);
  if (firstNonFolder(oldHome, parents) !== undefined) return undefined;
  if (!exists(path.join(oldHome, ...segments))) return undefined;
  const blocked = firstNonFolder(tree, parents);
  if (blocked && blocked.kind !== "missing") {
    throw switchBlockedError(oldHome, journal, `the restored tree has ${blocked.relative} as a ${blocked.kind === "other" ? "special file" : blocked.kind}, so the kept path ${relative} cannot be moved into it without leaving the home`);
  }
  // Already there (a switch finished before a crash): never overwritten.
  if (!blocked && exists(path.join(tree, ...segments))) return undefined;
  return segments;
}

/**
 * Moves one kept path from the old home into the same place in the staged
 * tree, creating missing parent folders like the old ones, and leaves the mode
 * and time of the staged folder that received it as they were.
 */
function moveKept(oldHome: string, tree: string, segments: string[]): void {
  // Counted now, not when planned: an earlier kept path may have created some of them.
  const existingParents = (firstNonFolder(tree, segments.slice(0, -1))?.depth ?? segments.length) - 1;
  const receiving = path.join(tree, ...segments.slice(0, existingParents));
  const before = lstatSync(receiving);
  const isRoot = process.getuid?.() === 0;
  const mustOpen = !isRoot && (before.mode & 0o300) !== 0o300;
  if (mustOpen) chmodSync(receiving, (before.mode & 0o7777) | 0o300);
  const created: Array<{ folder: string; like: Stats }> = [];
  try {
    for (let depth = existingParents + 1; depth < segments.length; depth++) {
      const folder = path.join(tree, ...segments.slice(0, depth));
      // Open while filling; the old folder's mode is given once the kept path is in.
      mkdirSync(folder, { mode: 0o700 });
      created.push({ folder, like: lstatSync(path.join(oldHome, ...segments.slice(0, depth))) });
    }
    renameSync(path.join(oldHome, ...segments), path.join(tree, ...segments));
  } finally {
    for (const { folder, like } of created.reverse()) {
      if (isRoot) lchownSync(folder, like.uid, like.gid);
      chmodSync(folder, like.mode & 0o7777);
      utimesSync(folder, exactTime(like.atimeMs), exactTime(like.mtimeMs));
    }
    if (mustOpen) chmodSync(receiving, before.mode & 0o7777);
    utimesSync(receiving, exactTime(before.atimeMs), exactTime(before.mtimeMs));
  }
}

function switchBlockedError(home: string, journal: RestoreJournal, why: string): AppBackupError {
  return new AppBackupError(
    "RESTORE",
    `The restore of ${journal.backup} into ${home} cannot be switched in: ${why}. Nothing was moved.`,
    `Check ${home} and the ${path.basename(home)}.restore-* folders beside it by hand, then delete ${journalPathOf(home)}.`,
  );
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
 * Throws LOCKED if that restore is in fact still running, and refuses a
 * journal that is damaged or records another home.
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
  if (journal.phase === "staging") await rollBack(home, journal);
  else await completeSwitch(home, journal);
  return recovery;
}
