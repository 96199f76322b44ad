import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AppBackupError } from "../errors.js";
import { publishExclusive, publishReplacing } from "../fs/publish.js";
import { removeTree } from "../fs/tree-removal.js";
import { syncFolder } from "./fs-steps.js";

/**
 * The state of a restore, kept beside the home (`{home}.restore.json`) while it
 * runs. It is the lock against a second restore of the same home, and what a
 * later run reads to finish or undo a restore that was killed:
 *
 * - `staging`: the new tree is being written beside the home and databases
 *   loaded; the home is untouched. Undone by deleting the staged paths.
 * - `switching`: the staged tree is complete and verified and the databases are
 *   restored. Finished by moving the kept paths into the staged tree, renaming
 *   the home aside and the staged tree in (each step is an atomic rename, and
 *   each is redone only if it has not happened).
 * - `cleaning`: the new home is in place; what remains is deleting the old one.
 *   A local home's restore does not record it: its switch is done once the
 *   staged tree is gone, which a `switching` journal then shows (see switch.ts).
 */
export interface RestoreJournal {
  formatVersion: 1;
  id: string;
  backup: string;
  home: string;
  pid: number;
  host: string;
  startedAt: string;
  phase: "staging" | "switching" | "cleaning";
  /** Home-relative paths carried over from the old home into the new one. */
  kept: string[];
  /** Databases whose load finished, in order. */
  databasesRestored: string[];
}

/** The paths of one restore, all beside the home so that renames stay on its file system. */
export interface RestorePaths {
  journal: string;
  /** The new home being built. */
  tree: string;
  /** Where the old home is moved during the switch. */
  previous: string;
  /** Verified database dumps waiting to be loaded. */
  dumps: string;
}

export function restorePaths(home: string, id: string): RestorePaths {
  // The id is spliced into names beside the home: anything but hex digits could lead elsewhere.
  assertRestoreId(id);
  return { journal: journalPathOf(home), tree: `${home}.restore-${id}`, previous: `${home}.restore-${id}.old`, dumps: `${home}.restore-${id}.sql` };
}

export const journalPathOf = (home: string) => `${home}.restore.json`;

export function newRestoreId(): string {
  return randomBytes(6).toString("hex");
}

/**
 * The journal of the restore of `home`, checked: a journal that is damaged,
 * or that records another home (copied from elsewhere or altered), is refused
 * and never acted upon, since its paths are where recovery renames and deletes.
 */
export function readJournal(home: string): RestoreJournal | undefined {
  let text: string;
  try {
    text = readFileSync(journalPathOf(home), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let journal: unknown;
  try {
    journal = JSON.parse(text);
  } catch {
    throw damagedJournalError(home, "it is not JSON");
  }
  assertJournalOf(home, journal);
  return journal;
}

/** Throws unless `journal` is well formed and belongs to the restore of `home`. */
export function assertJournalOf(home: string, journal: unknown): asserts journal is RestoreJournal {
  const problem = journalProblem(journal);
  if (problem) throw damagedJournalError(home, problem);
  const recorded = (journal as RestoreJournal).home;
  if (!sameLocation(recorded, home)) {
    throw new AppBackupError(
      "RESTORE",
      `The restore journal ${journalPathOf(home)} records the home ${JSON.stringify(recorded)}, not ${home}: it was not written by a restore of this home, so it was not acted upon and nothing was changed.`,
      `Check ${home} and the ${path.basename(home)}.restore-* folders beside it by hand, then delete the journal.`,
    );
  }
}

function damagedJournalError(home: string, problem: string): AppBackupError {
  return new AppBackupError(
    "RESTORE",
    `The restore journal ${journalPathOf(home)} is damaged (${problem}), so an interrupted restore cannot be finished or undone automatically; nothing was changed.`,
    `Check ${home} and the ${path.basename(home)}.restore-* folders beside it by hand, then delete the journal.`,
  );
}

/** Throws unless `id` is a restore id: it is spliced into names beside a home, so anything but hex digits could lead elsewhere. */
export function assertRestoreId(id: string): void {
  if (!RESTORE_ID.test(id)) throw new AppBackupError("RESTORE", `${JSON.stringify(id)} is not a restore id (12 hex digits).`);
}

const localHomeProblem = (home: unknown) => (typeof home !== "string" || !path.isAbsolute(home) || home.includes("\0") ? "the home is not an absolute path" : undefined);

/**
 * What makes a parsed journal unusable, or undefined; its id and kept paths become paths, so both
 * are held to what a restore writes. `homeProblem` checks the recorded home as the medium names it.
 */
export function journalProblem(value: unknown, homeProblem: (home: unknown) => string | undefined = localHomeProblem): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not an object";
  const journal = value as Record<string, unknown>;
  if (journal.formatVersion !== 1) return "unknown format version";
  if (typeof journal.id !== "string" || !RESTORE_ID.test(journal.id)) return "the id is not 12 hex digits";
  const home = homeProblem(journal.home);
  if (home) return home;
  if (!["staging", "switching", "cleaning"].includes(journal.phase as string)) return "unknown phase";
  if (typeof journal.backup !== "string" || typeof journal.host !== "string" || typeof journal.startedAt !== "string") return "backup, host or start time missing";
  if (!Number.isSafeInteger(journal.pid) || (journal.pid as number) <= 0) return "the process id is not a positive integer";
  if (!Array.isArray(journal.databasesRestored) || !journal.databasesRestored.every((name) => typeof name === "string")) return "databasesRestored is not a list of names";
  if (!Array.isArray(journal.kept)) return "kept is not a list";
  const badKept = journal.kept.find((kept) => !isHomeRelativePath(kept));
  if (badKept !== undefined) return `the kept path ${JSON.stringify(badKept)} is not a path inside the home`;
  return undefined;
}

const RESTORE_ID = /^[0-9a-f]{12}$/;

/** A `/`-separated path below the home: not empty, not absolute, no empty, `.` or `..` segment, no NUL. */
export function isHomeRelativePath(value: unknown): value is string {
  if (typeof value !== "string" || value === "" || value.includes("\0")) return false;
  return value.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

/** True when both paths name the same entry, allowing for symlinks among their parent folders. */
function sameLocation(a: string, b: string): boolean {
  const canonical = (p: string) => {
    const absolute = path.resolve(p);
    let parent = path.dirname(absolute);
    try {
      parent = realpathSync(parent);
    } catch {
      // A parent that does not exist is compared as written.
    }
    return path.join(parent, path.basename(absolute));
  };
  return canonical(a) === canonical(b);
}

/** Replaces the journal in one atomic step, durably. */
export async function writeJournal(journal: RestoreJournal): Promise<void> {
  const file = journalPathOf(journal.home);
  await publishReplacing(file, JSON.stringify(journal, null, 2), { flush: true });
  syncFolder(path.dirname(file));
}

/** Creates the journal only if none exists: the lock that keeps two restores off one home. */
export async function createJournal(journal: RestoreJournal): Promise<boolean> {
  const file = journalPathOf(journal.home);
  if (!(await publishExclusive(file, JSON.stringify(journal, null, 2), { flush: true }))) return false;
  syncFolder(path.dirname(file));
  return true;
}

export async function deleteJournal(home: string): Promise<void> {
  await rm(journalPathOf(home), { force: true });
  syncFolder(path.dirname(home));
}

/** True while the process that wrote the journal still runs (on this host). */
export function isRunning(journal: RestoreJournal): boolean {
  if (journal.host !== os.hostname()) return true;
  if (journal.pid === process.pid) return false;
  try {
    process.kill(journal.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function lockedError(journal: RestoreJournal): AppBackupError {
  const where = journal.host === os.hostname() ? `process ${journal.pid}` : `process ${journal.pid} on ${journal.host}`;
  return new AppBackupError(
    "LOCKED",
    `Another restore (of ${journal.backup}, started ${journal.startedAt} by ${where}) is running on ${journal.home}; nothing was done.`,
    `Wait for it to finish. If that process is gone, delete ${journalPathOf(journal.home)} and run the restore again.`,
  );
}

/** Staged paths beside the home that no journal accounts for (left by a run killed before it wrote one). */
export function strayStagingPaths(home: string): string[] {
  const parent = path.dirname(home);
  const prefix = `${path.basename(home)}.restore-`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(prefix) && /^[0-9a-f]{12}(\.old|\.sql)?$/.test(name.slice(prefix.length)))
    .map((name) => path.join(parent, name));
}

export async function removeStrayStaging(home: string, own?: RestorePaths): Promise<string[]> {
  const mine = new Set(own ? [own.tree, own.previous, own.dumps] : []);
  const stray = strayStagingPaths(home).filter((p) => !mine.has(p));
  for (const target of stray) await removeTree(target);
  return stray;
}
