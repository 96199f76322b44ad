import type { Readable } from "node:stream";
import type { SkippedEntry } from "../../archive/types.js";
import type { ZipWriter } from "../../archive/zip-writer.js";
import { byCodeUnits } from "../../code-unit-order.js";
import { AppBackupError } from "../../errors.js";
import { contentEntryName } from "../../format/zip-layout.js";
import { loadFilterFrom, PathFilter } from "../../plan/filter.js";
import type { PlannedEntries, SpooledWalk } from "../../plan/planned-entries.js";
import type { WalkOptions } from "../../plan/walk.js";
import type { RecordSpoolOptions } from "../../spool/record-spool.js";
import type { AddContentContext, HomeReader } from "../home.js";
import type { KuduClient, VfsEntry } from "./kudu-client.js";
import { zipStreamEntries } from "./zip-stream-entries.js";
import { isAppBackupPath, KUDU_FILE_MODE, KUDU_FOLDER_MODE, spoolKuduHome } from "./vfs-walk.js";

/** What a walked file that Kudu no longer has is reported with. */
const MISSING_FROM_ZIP = "vanished while the backup ran: Kudu no longer has it (ENOENT)";

/** DOS times in a zip have two-second steps: a walked time in the step of the zip's is the same time. */
const DOS_STEP_MS = 2000;

/**
 * An App Service app's home read through Kudu: the walk lists it through the VFS API;
 * the content comes from the zip API, read entry by entry as it arrives
 * (zip-stream-entries.ts) straight into the backup's zip, with no copy on this
 * machine's disk.
 *
 * Kudu's zip of a folder holds all of it, so a folder in which the walk left
 * something out (the filter's paths, app-backup's own folder) is not downloaded
 * whole: it is listed again, its files are read one by one through the VFS API and
 * each subfolder is handled the same way, so only the folders with nothing left out
 * come as zips, and excluded content is never downloaded. The filter is applied again
 * to every entry as it comes, for what appeared since the walk.
 *
 * A zip has its own order (the server's directory order, not the walk's sorted one),
 * so entries go into the backup in the order they come, each file after the folders
 * that hold it; folders with nothing streamed under them (empty, or all their content
 * gone) follow at the end in walk order. A file the walk did not see (made since)
 * goes in when the filter allows it, as a local backup would have taken it had it
 * walked later; a walked file that is no longer there is reported as unreadable, as
 * one that vanished. Times come from the VFS listings (to 100 ns, rounded to the
 * millisecond), not from the zip's DOS times (2 s), unless the file changed since.
 *
 * The walked paths are held in memory while the content is read (to find the ones
 * that vanished): a few tens of megabytes for a home of a hundred thousand files.
 */
export class AppServiceHomeReader implements HomeReader {
  /** Kudu's zip is inflated on libuv's threads, its entries deflated on the workers. */
  readonly readsOnMainThread = false;
  /** The filter the walk applied: the content read later must be filtered the same way. */
  private walkFilter: PathFilter | undefined;
  /** Folders ("" for the home) in which the walk left something out, at any depth. */
  private foldersWithExclusions = new Set<string>();

  constructor(
    private readonly client: KuduClient,
    readonly description: string,
  ) {}

  loadFilter(inline: string[] | undefined): Promise<PathFilter> {
    return loadFilterFrom(inline, async (location) => {
      const chunks: Buffer[] = [];
      try {
        const { content } = await this.client.readFile(location);
        for await (const chunk of content) chunks.push(chunk as Buffer);
      } catch (error) {
        // Missing (404), or a folder of that name (307): not a filter file.
        if (error instanceof AppBackupError && error.code === "HOME_MISSING") return undefined;
        throw error;
      }
      return { text: Buffer.concat(chunks).toString("utf8"), source: `${this.description}: ${location}` };
    });
  }

  async walk(filter: PathFilter, _options: WalkOptions, spool: RecordSpoolOptions): Promise<SpooledWalk> {
    this.walkFilter = filter;
    const folders = new Set<string>();
    this.foldersWithExclusions = folders;
    return spoolKuduHome(this.client, filter, spool, (path) => {
      const segments = path.split("/");
      for (let depth = 0; depth < segments.length; depth++) folders.add(segments.slice(0, depth).join("/"));
    });
  }

  async addContent(entries: PlannedEntries, zip: ZipWriter, context: AddContentContext): Promise<SkippedEntry[]> {
    if (!this.walkFilter) throw new Error("Internal error: the App Service home's content was asked for before it was walked.");
    const content = new ContentCopy(this.client, this.description, zip, context, this.walkFilter, this.foldersWithExclusions);
    return content.copy(entries);
  }

  async close(): Promise<void> {}
}

/** One backup's copy of the home's content into its zip (see {@link AppServiceHomeReader}). */
class ContentCopy {
  /** A copy, so the plan's count of what each line excluded is not counted again. */
  private readonly filter: PathFilter;
  private readonly walkedFiles = new Map<string, number>();
  private readonly walkedFolders = new Map<string, number>();
  private readonly addedFolders = new Set<string>();
  private readonly folderExcluded = new Map<string, boolean>();

  constructor(
    private readonly client: KuduClient,
    private readonly description: string,
    private readonly zip: ZipWriter,
    private readonly context: AddContentContext,
    walkFilter: PathFilter,
    private readonly foldersWithExclusions: Set<string>,
  ) {
    this.filter = new PathFilter(walkFilter.lines, walkFilter.source);
  }

  async copy(entries: PlannedEntries): Promise<SkippedEntry[]> {
    for (const entry of entries) {
      if (entry.kind === "file") this.walkedFiles.set(entry.path, entry.mtime.getTime());
      else if (entry.kind === "directory") this.walkedFolders.set(entry.path, entry.mtime.getTime());
    }
    await this.copyFolder("");
    for (const [path, mtimeMs] of [...this.walkedFolders]) await this.addFolder(path, mtimeMs);
    return [...this.walkedFiles.keys()].map((path) => ({ name: contentEntryName(path), reason: MISSING_FROM_ZIP }));
  }

  /** A folder with nothing left out comes as one zip; one with exclusions, child by child. */
  private async copyFolder(folder: string): Promise<void> {
    if (!this.foldersWithExclusions.has(folder)) return this.copyZipOf(folder);
    let children: VfsEntry[];
    try {
      children = await this.client.listFolder(folder);
    } catch (error) {
      if (isGone(error) && folder !== "") return;
      throw error;
    }
    children.sort((a, b) => byCodeUnits(a.name, b.name));
    for (const child of children) {
      this.context.signal?.throwIfAborted();
      if (isAppBackupPath(child.path) || this.excluded(child.path)) continue;
      if (child.kind === "directory") {
        await this.addParents(child.path, child.mtime.getTime());
        await this.addFolder(child.path, child.mtime.getTime());
        await this.copyFolder(child.path);
      } else {
        await this.copyFile(child);
      }
    }
  }

  private async copyZipOf(folder: string): Promise<void> {
    let download: Readable;
    try {
      download = await this.client.downloadZip(folder);
    } catch (error) {
      if (isGone(error) && folder !== "") return;
      throw error;
    }
    const prefix = folder === "" ? "" : `${folder}/`;
    const describe = `the zip of /${prefix} from ${this.description}`;
    for await (const entry of zipStreamEntries(download, { describe })) {
      this.context.signal?.throwIfAborted();
      const path = prefix + entry.name;
      if (isAppBackupPath(path) || this.excluded(path)) continue;
      const streamedMs = entry.mtime.getTime();
      await this.addParents(path, streamedMs);
      if (entry.kind === "directory") {
        await this.addFolder(path, streamedMs);
        continue;
      }
      const walkedMs = this.walkedFiles.get(path);
      this.walkedFiles.delete(path);
      const unchanged = walkedMs !== undefined && walkedMs >= streamedMs && walkedMs < streamedMs + DOS_STEP_MS;
      await this.room();
      // Awaited whole: the next entry's bytes come after this one's in the same download.
      await this.zip.addStream(contentEntryName(path), entry.content, { mtime: new Date(unchanged ? walkedMs : streamedMs), mode: KUDU_FILE_MODE });
    }
  }

  private async copyFile(file: VfsEntry): Promise<void> {
    let content: Readable;
    try {
      ({ content } = await this.client.readFile(file.path));
    } catch (error) {
      // Gone since it was listed: it stays among the walked files not found, and is reported.
      if (isGone(error)) return;
      throw error;
    }
    this.walkedFiles.delete(file.path);
    await this.room();
    await this.zip.addStream(contentEntryName(file.path), content, { mtime: file.mtime, mode: KUDU_FILE_MODE });
  }

  /** Whether the filter leaves the path out, itself or through a folder that holds it. */
  private excluded(path: string): boolean {
    if (this.filter.isEmpty) return false;
    const segments = path.split("/");
    for (let depth = 1; depth < segments.length; depth++) {
      const folder = segments.slice(0, depth).join("/");
      let out = this.folderExcluded.get(folder);
      if (out === undefined) this.folderExcluded.set(folder, (out = this.filter.excludes(folder)));
      if (out) return true;
    }
    return this.filter.excludes(path);
  }

  private async room(): Promise<void> {
    const window = this.context.window;
    if (this.zip.queued >= window) await this.zip.whenQueuedAtMost(Math.floor(window / 2));
  }

  private async addFolder(path: string, fallbackMtimeMs: number): Promise<void> {
    if (this.addedFolders.has(path)) return;
    await this.room();
    const mtimeMs = this.walkedFolders.get(path) ?? fallbackMtimeMs;
    this.walkedFolders.delete(path);
    this.addedFolders.add(path);
    this.zip.addDirectory(`${contentEntryName(path)}/`, { mtime: new Date(mtimeMs), mode: KUDU_FOLDER_MODE });
  }

  private async addParents(path: string, fallbackMtimeMs: number): Promise<void> {
    const segments = path.split("/");
    for (let depth = 1; depth < segments.length; depth++) await this.addFolder(segments.slice(0, depth).join("/"), fallbackMtimeMs);
  }
}

/** Missing (404), or of the other kind (307): gone since the walk. */
function isGone(error: unknown): boolean {
  return error instanceof AppBackupError && error.code === "HOME_MISSING";
}
