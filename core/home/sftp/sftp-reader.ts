import type { SkippedEntry } from "../../archive/types.js";
import type { ZipWriter } from "../../archive/zip-writer.js";
import { AppBackupError } from "../../errors.js";
import { loadFilterFrom, type PathFilter } from "../../plan/filter.js";
import type { PlannedEntries, SpooledWalk } from "../../plan/planned-entries.js";
import type { WalkOptions } from "../../plan/walk.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { AddContentContext, HomeReader } from "../home.js";
import { describeSftpAddress } from "./address.js";
import { sftpStatus, type SftpSession } from "./connection.js";
import { RemoteFileUnreadable } from "./read.js";
import { readSftpWhole } from "./read-whole.js";
import { addSftpContent, defaultSftpContentLimits, type SftpContentLimits } from "./sftp-content.js";
import { spoolSftpHome } from "./spool-walk.js";
import { homeFailure, pathReason } from "./walk.js";

/** A filter file is a list of paths: anything larger is not one. */
const filterFileLimit = 16 * 1024 * 1024;

/** What a backup reads of a home on an SFTP server (see HomeReader). */
export class SftpHomeReader implements Omit<HomeReader, "close"> {
  readonly description: string;
  /** Packets are decrypted and parsed on this thread. */
  readonly readsOnMainThread = true;
  private readonly root: string;

  constructor(
    private readonly session: SftpSession,
    private readonly events: { warning?(message: string): void } = {},
    private readonly limits: SftpContentLimits = defaultSftpContentLimits,
  ) {
    this.root = session.address.path;
    this.description = describeSftpAddress(session.address);
  }

  /** As the local loadFilter: the inline lines, else the first filter file found in the home, else none. */
  loadFilter(inline: string[] | undefined): Promise<PathFilter> {
    return loadFilterFrom(inline, async (location) => {
      const file = `${this.root}/${location}`;
      const shown = describeSftpAddress({ ...this.session.address, path: file });
      try {
        return { text: await this.readFilterFile(file), source: shown };
      } catch (error) {
        if (error instanceof AppBackupError) throw error;
        if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return undefined;
        // A file in a home this user cannot enter fails at the file; the home is what to fix.
        await this.assertHomeListable();
        const reason = error instanceof RemoteFileUnreadable ? error.reason : pathReason(error);
        throw new AppBackupError(
          "FILTER_INVALID",
          `Cannot read the filter file ${shown}: ${reason}.`,
          `Make the file readable by user "${this.session.address.user}" on the server, or remove it (or set backup.filter in the configuration).`,
        );
      }
    });
  }

  walk(filter: PathFilter, options: WalkOptions, spool: RecordSpoolOptions): Promise<SpooledWalk> {
    return spoolSftpHome(this.session, this.root, filter, options, spool);
  }

  addContent(entries: PlannedEntries, zip: ZipWriter, context: AddContentContext): Promise<SkippedEntry[]> {
    return addSftpContent(this.session, this.root, entries, zip, context, this.events, this.limits);
  }

  /** The file's text; the server's status error (a number `code`) when it cannot be read. */
  private async readFilterFile(file: string): Promise<string> {
    const stats = await this.session.request<{ size: number }>((sftp, done) => sftp.stat(file, done), `reading the attributes of ${file}`);
    if (stats.size > filterFileLimit) throw new RemoteFileUnreadable(file, `it is ${stats.size} bytes, more than a filter file holds`);
    return (await readSftpWhole(this.session, file, stats.size)).toString("utf8");
  }

  private async assertHomeListable(): Promise<void> {
    const handle = await this.session
      .request<Buffer>((sftp, done) => sftp.opendir(this.root, done), `listing ${this.root}`)
      .catch((error: unknown) => {
        throw homeFailure(this.session, this.root, error);
      });
    await this.session.request<void>((sftp, done) => sftp.close(handle, done), `closing ${this.root}`).catch(() => {});
  }
}
