import type { Stats } from "ssh2";
import { AppBackupError } from "../../errors.js";
import { PathFilter } from "../../plan/filter.js";
import { walkSpool, type SpooledWalk } from "../../plan/planned-entries.js";
import { isRunning, lockedError, type RestoreJournal } from "../../restore/journal.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { RemoteRecovery, RemoteRestoreJournal, RemoteRestoreTarget } from "../home.js";
import { describeSftpAddress } from "./address.js";
import { sftpStatus, type SftpSession } from "./connection.js";
import { createRemoteJournal, readRemoteJournal, removeStrayRestorePaths, remoteRestorePaths, writeRemoteJournal } from "./remote-journal.js";
import { completeRemoteSwitch, rollBackRemote } from "./remote-switch.js";
import { spoolSftpHome } from "./spool-walk.js";
import { uploadTree } from "./upload-tree.js";

/**
 * A home on an SFTP server as a restore writes it (see RemoteRestoreTarget): the
 * journal, the uploaded tree and the old home set aside all live beside the home,
 * so every switch step is a rename on the server's file system. A home reached
 * through a symlink is restored where the link points, as a local one is.
 */
export class SftpRestoreTarget implements Omit<RemoteRestoreTarget, "close"> {
  readonly description: string;
  private resolved?: string;

  constructor(private readonly session: SftpSession) {
    this.description = describeSftpAddress(session.address);
  }

  async listCurrent(spool: RecordSpoolOptions): Promise<{ exists: boolean; walk: SpooledWalk }> {
    const home = await this.home();
    if (!(await this.lstat(home))) {
      return { exists: false, walk: walkSpool(spool).done() };
    }
    return { exists: true, walk: await spoolSftpHome(this.session, home, new PathFilter([], "no filter"), {}, spool) };
  }

  async pendingJournal(): Promise<RemoteRestoreJournal | undefined> {
    return readRemoteJournal(this.session, await this.home(), this.description);
  }

  async recover(): Promise<RemoteRecovery | undefined> {
    const journal = await this.pendingJournal();
    if (!journal) return undefined;
    if (isRunning(journal as RestoreJournal)) throw lockedError(journal as RestoreJournal);
    const recovery: RemoteRecovery = {
      backup: journal.backup,
      startedAt: journal.startedAt,
      action: journal.phase === "staging" ? "rolled back" : "completed",
      databasesRestored: journal.databasesRestored,
    };
    if (journal.phase === "staging") await this.rollBack(journal);
    else await this.switchTo(journal);
    await removeStrayRestorePaths(this.session, await this.home());
    return recovery;
  }

  async begin(journal: RemoteRestoreJournal): Promise<void> {
    const home = await this.home();
    const paths = remoteRestorePaths(home, journal.id);
    const existing = await readRemoteJournal(this.session, home, this.description);
    if (existing) throw this.heldBy(existing);
    if (!(await createRemoteJournal(this.session, home, this.recorded(journal, "staging")))) {
      const winner = await readRemoteJournal(this.session, home, this.description);
      throw winner ? this.heldBy(winner) : lockedError(journal as RestoreJournal);
    }
    // Held now: what earlier runs killed before they wrote a journal can go.
    await removeStrayRestorePaths(this.session, home, paths);
  }

  async record(journal: RemoteRestoreJournal): Promise<void> {
    await writeRemoteJournal(this.session, await this.home(), this.recorded(journal, journal.phase));
  }

  async upload(localTree: string, options: { signal?: AbortSignal; onProgress?: (bytes: number) => void }): Promise<void> {
    // The id is checked when the journal is written; the tree is named after the journal's.
    const journal = await this.pendingJournal();
    if (!journal) {
      throw new AppBackupError("RESTORE", `No restore of ${this.description} is under way: its journal is missing, so nothing was uploaded.`, "Run the restore again.");
    }
    const home = await this.home();
    await uploadTree(this.session, localTree, remoteRestorePaths(home, journal.id).tree, options);
  }

  async switchTo(journal: RemoteRestoreJournal): Promise<void> {
    const home = await this.home();
    await completeRemoteSwitch(this.session, home, this.recorded(journal, journal.phase), (next) => writeRemoteJournal(this.session, home, next));
  }

  async rollBack(journal: RemoteRestoreJournal): Promise<void> {
    await rollBackRemote(this.session, await this.home(), journal);
  }

  /** The journal as written beside this home: its home is always this one's description. */
  private recorded(journal: RemoteRestoreJournal, phase: RemoteRestoreJournal["phase"]): RemoteRestoreJournal {
    return { ...journal, home: this.description, phase };
  }

  /** The error for a journal found at `begin`: a restore that may be running, or one a run must settle first. */
  private heldBy(journal: RemoteRestoreJournal): AppBackupError {
    if (isRunning(journal as RestoreJournal)) return lockedError(journal as RestoreJournal);
    return new AppBackupError(
      "RESTORE",
      `A restore of ${journal.backup} into ${this.description} (started ${journal.startedAt}) did not finish and was not settled; nothing was done.`,
      "Run the restore again: it finishes or undoes the interrupted one first.",
    );
  }

  /**
   * The home's path on the server, checked once: never `/`, its parent an existing
   * folder, the home itself a folder or not there yet; a symlink is followed.
   */
  private async home(): Promise<string> {
    if (this.resolved) return this.resolved;
    let home = this.session.address.path;
    if (home === "/" || home === "") throw rootRefused(this.description);
    const info = await this.lstat(home);
    if (info?.isSymbolicLink()) {
      home = await this.session.request<string>((sftp, done) => sftp.realpath(home, done), `resolving ${home}`);
      if (home === "/") throw rootRefused(this.description);
    }
    const target = info?.isSymbolicLink() ? await this.lstat(home) : info;
    if (target && !target.isDirectory()) {
      throw new AppBackupError("HOME_MISSING", `The target home ${this.description} is not a folder on the server.`, 'Set "home" to the app\'s folder.');
    }
    const parent = home.slice(0, home.lastIndexOf("/")) || "/";
    const parentInfo = await this.lstat(parent);
    if (!parentInfo?.isDirectory()) {
      throw new AppBackupError(
        "HOME_MISSING",
        `The folder ${parent} that would hold the home ${this.description} does not exist on the server${parentInfo ? " (it is not a folder)" : ""}.`,
        `Create ${parent} on the server (the restore builds the new home beside the old one in it), or correct "home".`,
      );
    }
    this.resolved = home;
    return home;
  }

  private async lstat(path: string): Promise<Stats | undefined> {
    try {
      return await this.session.request<Stats>((sftp, done) => sftp.lstat(path, done), `reading the attributes of ${path}`);
    } catch (error) {
      if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return undefined;
      if (error instanceof AppBackupError) throw error;
      throw new AppBackupError(
        "HOME_MISSING",
        `Cannot read the attributes of ${path} on the SFTP server (home ${this.description}): ${(error as Error).message}.`,
        `Check that user "${this.session.address.user}" may reach it on the server.`,
      );
    }
  }
}

function rootRefused(description: string): AppBackupError {
  return new AppBackupError("USAGE", `The target home ${description} is the server's root folder; a restore replaces the whole home, so it cannot be /.`, 'Set "home" to the app\'s own folder.');
}
