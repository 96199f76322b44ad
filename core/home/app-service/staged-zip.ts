import { fileSink } from "../../archive/file-sink.js";
import { ZipWriter } from "../../archive/zip-writer.js";
import { PathFilter } from "../../plan/filter.js";
import { visitHomeFields } from "../../plan/walk.js";
import { zipStreamEntries } from "./zip-stream-entries.js";

/** What a staged tree holds at a home-relative path. */
export type StagedKind = "file" | "directory" | undefined;

/**
 * Zips a local staged tree for Kudu's zip API: names relative to the tree (which is
 * the home), a folder entry for each folder so empty ones come back too. Kudu cannot
 * make symlinks: each is left out and named through `warning`.
 *
 * Kudu's extraction (.NET's ZipArchive) takes an entry's DOS date and time as the
 * server's local time, which is UTC on App Service; the zip writer writes them in this
 * machine's local time (as Info-ZIP does). Each time is shifted by this machine's
 * offset from UTC so that the DOS fields read as the file's UTC time there.
 */
export async function zipStagedTree(localTree: string, zipPath: string, warning: (message: string) => void): Promise<{ files: number }> {
  const sink = await fileSink(zipPath);
  const zip = new ZipWriter(sink, { workers: 1 });
  let files = 0;
  try {
    visitHomeFields(localTree, new PathFilter([], "no filter"), {
      entry(path, kind, size, mtimeMs, mode) {
        const mtime = asUtcWallClock(mtimeMs);
        if (kind === "directory") zip.addDirectory(`${path}/`, { mtime, mode });
        else if (kind === "file") {
          zip.addFile(path, `${localTree}/${path}`, { size, mtime, mode });
          files++;
        } else warning(`${path} is a symlink, which App Service cannot hold; it was not restored.`);
      },
      unreadable: (path, reason) => {
        throw new Error(`The staged file ${path} could not be read: ${reason}.`);
      },
    });
    const result = await zip.finish();
    result.entries.close();
    if (result.skipped.length > 0) throw new Error(`The staged file ${result.skipped[0]!.name} could not be read: ${result.skipped[0]!.reason}.`);
  } catch (error) {
    await zip.abort();
    throw error;
  } finally {
    await sink.close();
  }
  return { files };
}

/** A time whose local wall clock here reads as `ms`'s UTC wall clock. */
function asUtcWallClock(ms: number): Date {
  const offsetMs = new Date(ms).getTimezoneOffset() * 60_000;
  return new Date(ms + offsetMs);
}

/** The kinds of what a staged zip holds, by home-relative path (folders implied by a file's path included). */
export async function stagedKindsOfZip(zip: AsyncIterable<Buffer | Uint8Array>, describe: string): Promise<Map<string, "file" | "directory">> {
  const kinds = new Map<string, "file" | "directory">();
  for await (const entry of zipStreamEntries(zip, { describe })) {
    const segments = entry.name.split("/");
    for (let depth = 1; depth < segments.length; depth++) kinds.set(segments.slice(0, depth).join("/"), "directory");
    kinds.set(entry.name, entry.kind);
  }
  return kinds;
}
