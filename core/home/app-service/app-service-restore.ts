import { createReadStream } from "node:fs";
import { lstat, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { AppBackupError } from "../../errors.js";
import { PathFilter } from "../../plan/filter.js";
import type { SpooledWalk } from "../../plan/planned-entries.js";
import { isRunning } from "../../restore/journal.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { RemoteRecovery, RemoteRestoreJournal, RemoteRestoreTarget } from "../home.js";
import type { KuduClient, VfsEntry } from "./kudu-client.js";
import { stagedKindsOfZip, type StagedKind, zipStagedTree } from "./staged-zip.js";
import { APP_BACKUP_FOLDER, spoolKuduHome } from "./vfs-walk.js";

/** The journal, in the home (Kudu reaches nothing outside it) and out of every walk. */
export const JOURNAL_PATH = `${APP_BACKUP_FOLDER}/restore.json`;
/** A journal is small: more than this is not one of ours. */
const JOURNAL_MAX_BYTES = 1024 * 1024;

export const stagedZipPath = (id: string) => `${APP_BACKUP_FOLDER}/restore-${id}.zip`;

/** Kinds of the restored tree by home-relative path, read from the staged zip (this machine's copy, else the one in the home). */
type StagedKinds = (path: string) => Promise<StagedKind>;

/**
 * An App Service app's home as a restore writes it, through Kudu. Kudu cannot rename,
 * so the switch cannot be one atomic step as on a local or SFTP home; it is made as
 * safe as Kudu allows:
 *
 * - `upload` zips the checked, staged tree and writes it into the home
 *   (`data/app-backup/restore-{id}.zip`) before anything of the site changes;
 * - `switchTo` marks the journal `switching`, deletes what stands where the backup has
 *   something of another kind (a folder where a file goes), has Kudu extract the staged
 *   zip into the home (it adds and overwrites), deletes what the backup lacks (but the
 *   kept paths and app-backup's own folder), marks the journal `cleaning`, then deletes
 *   the staged zip and the journal.
 *
 * Each step can be done again with the same outcome, so `recover` finishes a switch cut
 * anywhere, reading the staged zip back from the home; during the switch the site
 * serves a mix of old and new files for as long as the extraction and deletions take.
 *
 * The journal is written with Kudu's If-Match rules: created only when there is none
 * (a second restore finds it there: LOCKED), replaced only at the ETag this run wrote.
 */
export class AppServiceRestoreTarget implements RemoteRestoreTarget {
  private journalEtag: string | undefined;
  /** The journal this run began, for `upload`. */
  private journal: RemoteRestoreJournal | undefined;

  constructor(
    private readonly client: KuduClient,
    readonly description: string,
    private readonly warning: (message: string) => void,
  ) {}

  async listCurrent(spool: RecordSpoolOptions): Promise<{ exists: boolean; walk: SpooledWalk }> {
    // An App Service app always has its home.
    return { exists: true, walk: await spoolKuduHome(this.client, new PathFilter([], "no filter"), spool) };
  }

  async pendingJournal(): Promise<RemoteRestoreJournal | undefined> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let etag: string | undefined;
    try {
      const read = await this.client.readFile(JOURNAL_PATH);
      etag = read.etag;
      for await (const chunk of read.content) {
        chunks.push(chunk as Buffer);
        if ((bytes += (chunk as Buffer).length) > JOURNAL_MAX_BYTES) {
          read.content.destroy();
          throw this.foreignJournal("it is larger than a journal");
        }
      }
    } catch (error) {
      if (error instanceof AppBackupError && error.code === "HOME_MISSING") return undefined;
      throw error;
    }
    let journal: RemoteRestoreJournal;
    try {
      journal = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RemoteRestoreJournal;
    } catch {
      throw this.foreignJournal("it is not JSON");
    }
    if (journal?.formatVersion !== 1 || typeof journal.id !== "string" || !/^[A-Za-z0-9_-]+$/.test(journal.id) || !["staging", "switching", "cleaning"].includes(journal.phase)) {
      throw this.foreignJournal("it is not a journal of this version of app-backup");
    }
    if (!Array.isArray(journal.kept)) journal.kept = [];
    if (!Array.isArray(journal.databasesRestored)) journal.databasesRestored = [];
    this.journalEtag = etag;
    return journal;
  }

  async recover(): Promise<RemoteRecovery | undefined> {
    const journal = await this.pendingJournal();
    if (!journal) return undefined;
    if (isRunning(journal)) throw this.lockedError(journal);
    const recovery = (action: RemoteRecovery["action"]): RemoteRecovery => ({ backup: journal.backup, startedAt: journal.startedAt, action, databasesRestored: journal.databasesRestored });
    if (journal.phase === "staging") {
      await this.rollBack(journal);
      return recovery("rolled back");
    }
    await this.switchTo(journal);
    return recovery("completed");
  }

  async begin(journal: RemoteRestoreJournal): Promise<void> {
    await this.client.makeFolder(APP_BACKUP_FOLDER);
    try {
      // No If-Match: Kudu writes it only when there is none, which makes it the lock.
      const written = await this.client.putFile(JOURNAL_PATH, journalText(journal));
      this.journalEtag = written.etag;
      this.journal = journal;
    } catch (error) {
      if (!(error instanceof AppBackupError && error.code === "RESTORE")) throw error;
      const other = await this.pendingJournal();
      if (other && isRunning(other)) throw this.lockedError(other);
      if (other) {
        throw new AppBackupError(
          "LOCKED",
          `A restore of ${this.description} (of ${other.backup}, started ${other.startedAt}) was interrupted and left its journal ${JOURNAL_PATH}; nothing was done.`,
          "Run the restore again: it finishes or undoes the interrupted one first.",
        );
      }
      throw error;
    }
  }

  async record(journal: RemoteRestoreJournal): Promise<void> {
    await this.writeJournal(journal);
    this.journal = journal;
  }

  async upload(localTree: string, options: { signal?: AbortSignal; onProgress?: (bytes: number) => void }): Promise<void> {
    const journal = this.journal ?? (await this.pendingJournal());
    if (!journal) throw new AppBackupError("RESTORE", `No restore of ${this.description} is under way: its journal ${JOURNAL_PATH} is missing.`, "Run the restore again.");
    const local = localZipPath(journal.id);
    await zipStagedTree(localTree, local, this.warning);
    options.signal?.throwIfAborted();
    const send = () => {
      let sent = 0;
      const stream = createReadStream(local);
      stream.on("data", (chunk) => options.onProgress?.((sent += chunk.length)));
      return options.signal ? addAbortSignal(options.signal, stream) : stream;
    };
    // `*`: a staged zip of this restore left by an attempt that was cut is written over.
    await this.client.putFile(stagedZipPath(journal.id), send, { ifMatch: "*" });
  }

  async switchTo(journal: RemoteRestoreJournal): Promise<void> {
    if (journal.phase !== "cleaning") {
      if (journal.phase !== "switching") await this.writeJournal({ ...journal, phase: "switching" });
      const kindOf = await this.stagedKinds(journal.id);
      await this.reconcile(journal.kept, kindOf, "conflicts");
      await this.client.uploadZip("", await this.stagedZip(journal.id));
      await this.reconcile(journal.kept, kindOf, "extras");
      await this.writeJournal({ ...journal, phase: "cleaning" });
    }
    await this.removeQuietly(stagedZipPath(journal.id));
    await rm(localZipPath(journal.id), { force: true });
    await this.removeJournal();
  }

  async rollBack(journal: RemoteRestoreJournal): Promise<void> {
    await this.removeQuietly(stagedZipPath(journal.id));
    await rm(localZipPath(journal.id), { force: true });
    await this.removeJournal();
  }

  async close(): Promise<void> {}

  /** The staged zip's bytes: the local copy when this machine still has it, else the one in the home. */
  private async stagedZip(id: string): Promise<(() => Readable) | Readable> {
    const local = localZipPath(id);
    if (await lstat(local).then((s) => s.isFile(), () => false)) return () => createReadStream(local);
    return (await this.readStagedZip(id)).content;
  }

  private async readStagedZip(id: string): Promise<{ content: Readable }> {
    try {
      return await this.client.readFile(stagedZipPath(id));
    } catch (error) {
      if (error instanceof AppBackupError && error.code === "HOME_MISSING") {
        throw new AppBackupError(
          "RESTORE",
          `The restore of ${this.description} cannot be finished: its staged zip ${stagedZipPath(id)} is gone from the home.`,
          `Restore the backup again; delete ${JOURNAL_PATH} in the home (Kudu's file manager) first if this keeps stopping the restore.`,
        );
      }
      throw error;
    }
  }

  /** What the restored tree holds at each path, read once from the staged zip: this machine's copy while it has one, else the home's. */
  private async stagedKinds(id: string): Promise<StagedKinds> {
    const local = localZipPath(id);
    if (await lstat(local).then((s) => s.isFile(), () => false)) {
      const kinds = await stagedKindsOfZip(createReadStream(local), `the staged zip ${local}`);
      return async (home) => kinds.get(home);
    }
    const { content } = await this.readStagedZip(id);
    const kinds = await stagedKindsOfZip(content, `the staged zip ${stagedZipPath(id)} of ${this.description}`);
    return async (home) => kinds.get(home);
  }

  /**
   * Walks the home against the restored tree. `conflicts`: deletes what stands where
   * the tree has something of the other kind, so the extraction can write there.
   * `extras`: deletes, in addition, every path the tree lacks. Kept paths (and the
   * folders that lead to them) and app-backup's own folder are left alone.
   */
  private async reconcile(kept: string[], kindOf: StagedKinds, mode: "conflicts" | "extras"): Promise<void> {
    const leftAlone = [...kept, APP_BACKUP_FOLDER];
    const isKept = (home: string) => leftAlone.some((k) => home === k || home.startsWith(`${k}/`));
    const leadsToKept = (home: string) => leftAlone.some((k) => k.startsWith(`${home}/`));
    const visit = async (folder: string) => {
      let children: VfsEntry[];
      try {
        children = await this.client.listFolder(folder);
      } catch (error) {
        if (error instanceof AppBackupError && error.code === "HOME_MISSING" && folder !== "") return;
        throw error;
      }
      for (const child of children) {
        if (isKept(child.path)) continue;
        const wanted = await kindOf(child.path);
        if (leadsToKept(child.path)) {
          if (child.kind === "directory") await visit(child.path);
          continue;
        }
        if (wanted === child.kind) {
          if (child.kind === "directory") await visit(child.path);
          continue;
        }
        if (wanted === undefined && mode === "conflicts") continue;
        await this.removeQuietly(child.path, child.kind);
      }
    };
    await visit("");
  }

  /** Deletes a file or folder; one that is gone already is fine (a step done again). */
  private async removeQuietly(home: string, kind: "file" | "directory" = "file"): Promise<void> {
    try {
      if (kind === "directory") await this.client.deleteFolder(home);
      else await this.client.deleteFile(home);
    } catch (error) {
      if (error instanceof AppBackupError && error.code === "HOME_MISSING") return;
      throw error;
    }
  }

  private async writeJournal(journal: RemoteRestoreJournal): Promise<void> {
    try {
      const written = await this.client.putFile(JOURNAL_PATH, journalText(journal), { ifMatch: this.journalEtag ?? "*" });
      this.journalEtag = written.etag;
    } catch (error) {
      if (error instanceof AppBackupError && error.code === "RESTORE") {
        throw new AppBackupError(
          "LOCKED",
          `The restore journal ${JOURNAL_PATH} of ${this.description} was changed by someone else while this restore ran; it stopped.`,
          "Another restore may be running on the app: wait for it, then check the app and run the restore again.",
          { cause: error },
        );
      }
      throw error;
    }
  }

  private async removeJournal(): Promise<void> {
    try {
      await this.client.deleteFile(JOURNAL_PATH, { ifMatch: this.journalEtag ?? "*" });
    } catch (error) {
      if (!(error instanceof AppBackupError && error.code === "HOME_MISSING")) throw error;
    }
    this.journalEtag = undefined;
  }

  private lockedError(journal: RemoteRestoreJournal): AppBackupError {
    const where = journal.host === os.hostname() ? `process ${journal.pid}` : `process ${journal.pid} on ${journal.host}`;
    return new AppBackupError(
      "LOCKED",
      `Another restore (of ${journal.backup}, started ${journal.startedAt} by ${where}) is running on ${this.description}; nothing was done.`,
      `Wait for it to finish. If that process is gone, delete ${JOURNAL_PATH} in the app's home (Kudu's file manager, or DELETE /api/vfs/${JOURNAL_PATH}) and run the restore again.`,
    );
  }

  private foreignJournal(why: string): AppBackupError {
    return new AppBackupError(
      "RESTORE",
      `${JOURNAL_PATH} in the home of ${this.description} is not a restore journal app-backup can read: ${why}.`,
      `Look at it (Kudu's file manager); if no restore is running, delete it and run again.`,
    );
  }
}

function journalText(journal: RemoteRestoreJournal): string {
  return `${JSON.stringify(journal, null, 2)}\n`;
}

/** Where this machine keeps the staged zip it sends, until the switch is done. */
function localZipPath(id: string): string {
  return path.join(os.tmpdir(), `app-backup-kudu-restore-${id}.zip`);
}
