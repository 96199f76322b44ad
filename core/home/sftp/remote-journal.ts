import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { AppBackupError } from "../../errors.js";
import { assertRestoreId, journalProblem } from "../../restore/journal.js";
import type { RemoteRestoreJournal } from "../home.js";
import { parseSftpAddress } from "./address.js";
import { sftpStatus, type SftpSession } from "./connection.js";
import { readRemoteSmallFile, removeRemoteTree, writeRemoteFile, writeRemoteSmallFileAtomically } from "./write.js";

/** Where one restore of a remote home keeps its journal, builds the new tree and puts the old home aside: all beside the home. */
export interface RemoteRestorePaths {
  journal: string;
  tree: string;
  previous: string;
}

export const remoteJournalPathOf = (home: string) => `${home}.restore.json`;

export function remoteRestorePaths(home: string, id: string): RemoteRestorePaths {
  assertRestoreId(id);
  const tree = `${home}.restore-${id}`;
  return { journal: remoteJournalPathOf(home), tree, previous: `${tree}.old` };
}

/**
 * The journal of a restore of the remote home at `home` (its path on the server),
 * checked as the local one is: a damaged journal, or one that records another
 * home, is refused and never acted upon, since its paths are where recovery
 * renames and deletes. `shown` is the home for messages.
 */
export async function readRemoteJournal(session: SftpSession, home: string, shown: string): Promise<RemoteRestoreJournal | undefined> {
  const content = await readRemoteSmallFile(session, remoteJournalPathOf(home));
  if (content === undefined) return undefined;
  let journal: unknown;
  try {
    journal = JSON.parse(content.toString("utf8"));
  } catch {
    throw damagedJournal(shown, "it is not JSON");
  }
  const problem = journalProblem(journal, (home) => (typeof home === "string" ? undefined : "the home is missing"));
  if (problem) throw damagedJournal(shown, problem);
  const recorded = (journal as RemoteRestoreJournal).home;
  if (recordedPath(recorded) !== home) {
    throw new AppBackupError(
      "RESTORE",
      `The restore journal ${shown}.restore.json records the home ${JSON.stringify(recorded)}, not ${shown}: it was not written by a restore of this home, so it was not acted upon and nothing was changed.`,
      `Check ${shown} and the ${posix.basename(home)}.restore-* folders beside it on the server by hand, then delete the journal.`,
    );
  }
  return journal as RemoteRestoreJournal;
}

/** Replaces the journal in one atomic step. */
export async function writeRemoteJournal(session: SftpSession, home: string, journal: RemoteRestoreJournal): Promise<void> {
  await writeRemoteSmallFileAtomically(session, remoteJournalPathOf(home), JSON.stringify(journal, null, 2));
}

/**
 * Creates the journal only if none exists: the lock that keeps two restores off
 * one home. Written under a temporary name, then renamed with SFTP's own rename,
 * which (unlike posix-rename) refuses a name that exists: of two restores racing,
 * one wins.
 */
export async function createRemoteJournal(session: SftpSession, home: string, journal: RemoteRestoreJournal): Promise<boolean> {
  const path = remoteJournalPathOf(home);
  const temporary = posix.join(posix.dirname(path), `.${posix.basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeRemoteFile(session, temporary, [Buffer.from(JSON.stringify(journal, null, 2))], { mode: 0o600, mtime: new Date() });
  } catch (error) {
    if (!session.closed) await removeRemoteTree(session, temporary).catch(() => {});
    throw error;
  }
  try {
    await session.request<void>((sftp, done) => sftp.rename(temporary, path, done), `creating ${path}`);
    return true;
  } catch (error) {
    if (error instanceof AppBackupError) throw error;
    await removeRemoteTree(session, temporary);
    if ((await readRemoteSmallFile(session, path)) !== undefined) return false;
    const code = (error as { code?: unknown }).code;
    throw new AppBackupError(
      "RESTORE",
      `Cannot create the restore journal ${path} on the SFTP server: ${code === sftpStatus.permissionDenied ? "permission denied" : (error as Error).message}.`,
      `Check that user "${session.address.user}" may create files in ${posix.dirname(path)} on the server: a restore writes beside the home.`,
    );
  }
}

export async function deleteRemoteJournal(session: SftpSession, home: string): Promise<void> {
  await removeRemoteTree(session, remoteJournalPathOf(home));
}

/**
 * Removes what killed restores of this home left beside it that no journal
 * accounts for: uploaded trees and old homes (`{home}.restore-{id}`, `.old`) and
 * journals half written (`.{home}.restore.json.{random}.tmp`); `own` is kept.
 * Only names a restore makes are touched. Returns the paths removed.
 */
export async function removeStrayRestorePaths(session: SftpSession, home: string, own?: RemoteRestorePaths): Promise<string[]> {
  const parent = posix.dirname(home);
  const base = posix.basename(home);
  let names: string[];
  try {
    names = (await session.request<Array<{ filename: string }>>((sftp, done) => sftp.readdir(parent, done), `listing ${parent}`)).map((entry) => entry.filename);
  } catch (error) {
    if (error instanceof AppBackupError) throw error;
    return [];
  }
  const mine = new Set(own ? [own.tree, own.previous] : []);
  const stray = names
    .filter((name) => (name.startsWith(`${base}.restore-`) && /^[0-9a-f]{12}(\.old)?$/.test(name.slice(base.length + ".restore-".length))) || (name.startsWith(`.${base}.restore.json.`) && /^[0-9a-f]{12}\.tmp$/.test(name.slice(base.length + ".restore.json.".length + 1))))
    .map((name) => posix.join(parent, name))
    .filter((path) => !mine.has(path));
  for (const path of stray) await removeRemoteTree(session, path);
  return stray;
}

/** The path of a recorded home: the address's path, or the text itself when it is a path. */
function recordedPath(recorded: string): string | undefined {
  if (recorded.startsWith("/")) return recorded;
  try {
    return parseSftpAddress(recorded).path;
  } catch {
    return undefined;
  }
}

function damagedJournal(shown: string, problem: string): AppBackupError {
  return new AppBackupError(
    "RESTORE",
    `The restore journal ${shown}.restore.json is damaged (${problem}), so an interrupted restore cannot be finished or undone automatically; nothing was changed.`,
    `Check ${shown} and the .restore-* folders beside it on the server by hand, then delete the journal.`,
  );
}
