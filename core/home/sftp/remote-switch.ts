import type { Stats } from "ssh2";
import { AppBackupError } from "../../errors.js";
import type { RemoteRestoreJournal } from "../home.js";
import { sftpStatus, type SftpSession } from "./connection.js";
import { deleteRemoteJournal, remoteJournalPathOf, remoteRestorePaths } from "./remote-journal.js";
import { makeRemoteFolder, removeRemoteTree, renameRemote, setRemoteAttributes } from "./write.js";

/**
 * Puts the uploaded tree in place of the remote home, as the local switch does
 * (core/restore/switch.ts). Every step is a rename on the server and is done
 * only if it has not been done yet, so the same function finishes a switch cut
 * at any point:
 *
 * 1. the journal records the switch;
 * 2. each kept path moves from the old home into the uploaded tree;
 * 3. the old home is renamed aside, the uploaded tree to the home;
 * 4. the journal records the cleaning; the old home is deleted, then the journal.
 *
 * Every folder a kept path is moved out of or into is checked to be a real
 * folder first, so no rename, mkdir or time change goes through a link.
 */
export async function completeRemoteSwitch(
  session: SftpSession,
  home: string,
  journal: RemoteRestoreJournal,
  writeJournal: (journal: RemoteRestoreJournal) => Promise<void>,
): Promise<void> {
  const paths = remoteRestorePaths(home, journal.id);
  if (journal.phase === "staging") await writeJournal({ ...journal, phase: "switching" });
  const tree = await lstatOrUndefined(session, paths.tree);
  if (tree && !tree.isDirectory()) throw switchBlocked(home, journal, `${paths.tree} is not a folder`);
  if (tree) {
    const current = await lstatOrUndefined(session, home);
    if (current) {
      const moves: string[][] = [];
      if (current.isDirectory()) {
        // Checked for every kept path before any is moved, so a refusal leaves everything where it was.
        for (const kept of journal.kept) {
          const move = await planKeptMove(session, home, paths.tree, kept, journal);
          if (move) moves.push(move);
        }
      }
      for (const move of moves) await moveKept(session, home, paths.tree, move);
      await renameRemote(session, home, paths.previous);
    }
    await renameRemote(session, paths.tree, home);
  }
  if (journal.phase !== "cleaning") await writeJournal({ ...journal, phase: "cleaning" });
  await removeRemoteTree(session, paths.previous);
  await deleteRemoteJournal(session, home);
}

/** Undoes a restore that had not started switching: the home was never touched. */
export async function rollBackRemote(session: SftpSession, home: string, journal: RemoteRestoreJournal): Promise<void> {
  const paths = remoteRestorePaths(home, journal.id);
  await removeRemoteTree(session, paths.tree);
  await removeRemoteTree(session, paths.previous);
  await deleteRemoteJournal(session, home);
}

interface ChainBreak {
  /** 1-based: the first `depth` segments reach the entry that is not a folder. */
  depth: number;
  relative: string;
  kind: "missing" | "symlink" | "file" | "other";
}

/** The first of the successive paths `root/segments[0..i]` that is not a real folder, if any. */
async function firstNonFolder(session: SftpSession, root: string, segments: readonly string[]): Promise<ChainBreak | undefined> {
  let current = root;
  for (let depth = 1; depth <= segments.length; depth++) {
    current = `${current}/${segments[depth - 1]!}`;
    const info = await lstatOrUndefined(session, current);
    if (info?.isDirectory()) continue;
    const kind = !info ? "missing" : info.isSymbolicLink() ? "symlink" : info.isFile() ? "file" : "other";
    return { depth, relative: segments.slice(0, depth).join("/"), kind };
  }
  return undefined;
}

/**
 * The segments of a kept path that is to move, or undefined: as the local switch,
 * a kept path reached through a link in the old home is not in the home and is
 * left alone; in the new tree its parents must be real folders or missing; one
 * already there (a switch cut after moving it) is never overwritten.
 */
async function planKeptMove(session: SftpSession, oldHome: string, tree: string, relative: string, journal: RemoteRestoreJournal): Promise<string[] | undefined> {
  const segments = relative.split("/");
  const parents = segments.slice(0, -1);
  if ((await firstNonFolder(session, oldHome, parents)) !== undefined) return undefined;
  if (!(await lstatOrUndefined(session, `${oldHome}/${relative}`))) return undefined;
  const blocked = await firstNonFolder(session, tree, parents);
  if (blocked && blocked.kind !== "missing") {
    throw switchBlocked(oldHome, journal, `the restored tree has ${blocked.relative} as a ${blocked.kind === "other" ? "special file" : blocked.kind}, so the kept path ${relative} cannot be moved into it without leaving the home`);
  }
  if (!blocked && (await lstatOrUndefined(session, `${tree}/${relative}`))) return undefined;
  return segments;
}

/**
 * Moves one kept path from the old home into the same place in the new tree,
 * creating missing parent folders like the old ones, and leaves the mode and
 * time of the folder that received it as they were.
 */
async function moveKept(session: SftpSession, oldHome: string, tree: string, segments: string[]): Promise<void> {
  const join = (root: string, depth: number) => [root, ...segments.slice(0, depth)].join("/");
  // A kept path inside another that moved first went with it.
  if (!(await lstatOrUndefined(session, join(oldHome, segments.length))) || (await lstatOrUndefined(session, join(tree, segments.length)))) return;
  // Counted now, not when planned: an earlier kept path may have created some of them.
  const existingParents = ((await firstNonFolder(session, tree, segments.slice(0, -1)))?.depth ?? segments.length) - 1;
  const receiving = join(tree, existingParents);
  const before = (await lstatOrUndefined(session, receiving))!;
  const mustOpen = (before.mode & 0o300) !== 0o300;
  if (mustOpen) await setRemoteAttributes(session, receiving, { mode: before.mode | 0o300, mtime: new Date(before.mtime * 1000) });
  const created: Array<{ folder: string; like: Stats }> = [];
  try {
    for (let depth = existingParents + 1; depth < segments.length; depth++) {
      const folder = join(tree, depth);
      // Open while filling; the old folder's mode is given once the kept path is in.
      await makeRemoteFolder(session, folder, 0o700);
      created.push({ folder, like: (await lstatOrUndefined(session, join(oldHome, depth)))! });
    }
    await renameRemote(session, join(oldHome, segments.length), join(tree, segments.length));
  } finally {
    if (!session.closed) {
      for (const { folder, like } of created.reverse()) await setRemoteAttributes(session, folder, { mode: like.mode, mtime: new Date(like.mtime * 1000) });
      await setRemoteAttributes(session, receiving, { mode: before.mode, mtime: new Date(before.mtime * 1000) });
    }
  }
}

async function lstatOrUndefined(session: SftpSession, path: string): Promise<Stats | undefined> {
  try {
    return await session.request<Stats>((sftp, done) => sftp.lstat(path, done), `reading the attributes of ${path}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return undefined;
    if (error instanceof AppBackupError) throw error;
    throw new AppBackupError("RESTORE", `Cannot read the attributes of ${path} on the SFTP server: ${(error as Error).message}.`, `Check that user "${session.address.user}" may read it.`);
  }
}

function switchBlocked(home: string, journal: RemoteRestoreJournal, why: string): AppBackupError {
  return new AppBackupError(
    "RESTORE",
    `The restore of ${journal.backup} into ${journal.home} cannot be switched in: ${why}. Nothing was moved.`,
    `Check ${home} and the .restore-* folders beside it on the server by hand, then delete ${remoteJournalPathOf(home)}.`,
  );
}
