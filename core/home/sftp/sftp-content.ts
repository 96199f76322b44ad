import type { SkippedEntry } from "../../archive/types.js";
import type { ZipWriter } from "../../archive/zip-writer.js";
import { collectGarbage } from "../../archive/garbage-collection.js";
import { contentEntryName } from "../../format/zip-layout.js";
import type { PlannedEntries } from "../../plan/planned-entries.js";
import type { PlannedEntry } from "../../plan/walk.js";
import type { AddContentContext } from "../home.js";
import type { SftpSession } from "./connection.js";
import { openSftpRead, RemoteFileUnreadable } from "./read.js";
import { readSftpWhole } from "./read-whole.js";

/** How far ahead of the zip writer the files of a remote home are read, and how much that may hold. */
export interface SftpContentLimits {
  /** Files up to this size are fetched whole and handed to the zip as buffers; larger ones stream. */
  wholeFileLimit: number;
  /** Small files being fetched or fetched and waiting for their turn. */
  filesAhead: number;
  /** Their bytes together (one file larger than this still goes, alone). */
  bytesAhead: number;
  /** Large files open at once: the one the zip is writing and those opened for their turn. */
  largeFilesOpen: number;
  /** Walked entries taken ahead of the writer (folders and links cost nothing to fetch but still wait in line). */
  entriesAhead: number;
  /** Bytes of fetched files handed to the zip and not yet written by it. */
  bytesQueuedInZip: number;
  /** How a large file is read: bytes per request and requests in flight. */
  chunkSize: number;
  requestsAhead: number;
  /** Bytes received between full collections (see below). */
  bytesPerCollection: number;
}

export const defaultSftpContentLimits: SftpContentLimits = {
  wholeFileLimit: 1024 * 1024,
  filesAhead: 64,
  bytesAhead: 8 * 1024 * 1024,
  largeFilesOpen: 2,
  entriesAhead: 1024,
  bytesQueuedInZip: 8 * 1024 * 1024,
  chunkSize: 128 * 1024,
  requestsAhead: 8,
  bytesPerCollection: 4 * 1024 * 1024,
};

type Fetched = { kind: "buffer"; data: Buffer } | { kind: "stream"; source: AsyncGenerator<Buffer>; close: () => void } | { kind: "unreadable"; reason: string };

interface Slot {
  entry: PlannedEntry;
  /** For a file: its content once fetched (a large file: once open and its first bytes came). */
  fetched?: Promise<Fetched>;
  /** Bytes this slot counts against `bytesAhead`. */
  bytes: number;
}

export interface SftpContentEvents {
  warning?(message: string): void;
}

/**
 * Adds the content of a walked remote home to the zip in walk order, reading
 * files over SFTP ahead of the writer so that round trips overlap: small files
 * are fetched whole, many at once, within a budget of files and bytes; large
 * ones are opened (and their first bytes read) ahead and streamed when their
 * turn comes. Bytes handed to the zip and not yet written are capped too, so
 * memory stays bounded whatever the home holds.
 *
 * A file that cannot be read when fetched (vanished, refused, size changed) is
 * left out and returned; a large file that changes while it streams is archived
 * as read, with a warning, as a local backup does. A lost connection rejects
 * with HOME_UNREACHABLE.
 */
export async function addSftpContent(
  session: SftpSession,
  root: string,
  entries: PlannedEntries,
  zip: ZipWriter,
  context: AddContentContext,
  events: SftpContentEvents = {},
  limits: SftpContentLimits = defaultSftpContentLimits,
): Promise<SkippedEntry[]> {
  const { signal } = context;
  const window = Math.max(1, context.window);
  const prefix = root.endsWith("/") ? root : `${root}/`;
  const skipped: SkippedEntry[] = [];
  const walked = entries[Symbol.iterator]();
  let upcoming = walked.next();
  const ahead: Slot[] = [];
  let smallAhead = 0;
  let bytesAhead = 0;
  let largeOpen = 0;
  let largeFreed: (() => void) | undefined;
  /** Sizes of the buffers handed to the zip, oldest first, with the count of entries added before each. */
  const inZip: Array<{ index: number; bytes: number }> = [];
  let bytesInZip = 0;
  let added = 0;
  let lastStream: Promise<unknown> | undefined;
  // The SSH layer's packet buffers outlive young collections while requests are in flight, so
  // they die in the old generation, which V8 collects only after ~64 MiB more outside memory,
  // and they leave the malloc heap fragmented. On a 44k-file home the whole backup peaked at
  // 190-195 MiB with a full collection every 32 MiB received, 183-192 MiB every 8 MiB and
  // 173-181 MiB every 4 MiB, for about 0.5 s more in all.
  let receivedSinceCollection = 0;
  const received = (bytes: number) => {
    receivedSinceCollection += bytes;
    if (receivedSinceCollection < limits.bytesPerCollection) return;
    receivedSinceCollection = 0;
    collectGarbage("major");
  };

  const isLarge = (entry: PlannedEntry) => entry.kind === "file" && entry.size > limits.wholeFileLimit;

  const start = (entry: PlannedEntry): Slot => {
    if (entry.kind !== "file") return { entry, bytes: 0 };
    const absolute = prefix + entry.path;
    if (isLarge(entry)) {
      largeOpen++;
      return { entry, bytes: 0, fetched: openLarge(absolute, entry) };
    }
    smallAhead++;
    bytesAhead += entry.size;
    const fetched = readSftpWhole(session, absolute, entry.size).then(
      (data): Fetched => ({ kind: "buffer", data }),
      (error: unknown): Fetched => {
        if (error instanceof RemoteFileUnreadable) return { kind: "unreadable", reason: error.reason };
        throw error;
      },
    );
    // Read later, in turn; a failure is seen then (an unhandled one here would end the process).
    fetched.catch(() => {});
    return { entry, bytes: entry.size, fetched };
  };

  const openLarge = async (absolute: string, entry: PlannedEntry): Promise<Fetched> => {
    const stream = openSftpRead(session, absolute, entry.size, { chunkSize: limits.chunkSize, requestsAhead: limits.requestsAhead });
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      stream.destroy();
      releaseLarge();
    };
    const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let first: IteratorResult<Buffer>;
    try {
      first = await chunks.next();
    } catch (error) {
      close();
      if (error instanceof RemoteFileUnreadable) return { kind: "unreadable", reason: error.reason };
      throw error;
    }
    return { kind: "stream", source: streamFrom(chunks, first, entry, close), close };
  };

  /** The file's bytes for the zip: a change while it is read ends it there, as read. */
  async function* streamFrom(chunks: AsyncIterator<Buffer>, first: IteratorResult<Buffer>, entry: PlannedEntry, close: () => void): AsyncGenerator<Buffer> {
    try {
      for (let next = first; !next.done; next = await chunks.next()) {
        received(next.value.length);
        yield next.value;
      }
    } catch (error) {
      if (!(error instanceof RemoteFileUnreadable)) throw error;
      events.warning?.(`${contentEntryName(entry.path)} changed while it was read (${error.reason}); archived as read.`);
    } finally {
      close();
    }
  }

  function releaseLarge(): void {
    largeOpen--;
    const wake = largeFreed;
    largeFreed = undefined;
    wake?.();
  }

  /** Starts the next walked entries while the budgets allow; the first in line always starts, except a large file past its limit. */
  const refill = () => {
    while (!upcoming.done) {
      const entry = upcoming.value;
      if (ahead.length >= limits.entriesAhead) return;
      if (isLarge(entry)) {
        if (largeOpen >= limits.largeFilesOpen) return;
      } else if (entry.kind === "file" && ahead.length > 0 && (smallAhead >= limits.filesAhead || bytesAhead + entry.size > limits.bytesAhead)) {
        return;
      }
      ahead.push(start(entry));
      upcoming = walked.next();
    }
  };

  const nextSlot = async (): Promise<Slot | undefined> => {
    refill();
    while (ahead.length === 0 && !upcoming.done) {
      // Only a large file waits for room: for a file the zip is still streaming to end.
      await new Promise<void>((resolve) => (largeFreed = resolve));
      refill();
    }
    return ahead.shift();
  };

  /** Waits while the zip holds too many entries, or too many bytes of fetched files. */
  const roomInZip = async () => {
    if (zip.queued >= window) await zip.whenQueuedAtMost(Math.floor(window / 2));
    for (;;) {
      const written = added - zip.queued;
      while (inZip.length > 0 && inZip[0]!.index < written) bytesInZip -= inZip.shift()!.bytes;
      if (bytesInZip <= limits.bytesQueuedInZip || zip.queued === 0) return;
      const before = zip.queued;
      await zip.whenQueuedAtMost(Math.floor(before / 2));
      // A failed writer wakes every waiter and reports its failure at the next add.
      if (zip.queued >= before) return;
    }
  };

  try {
    for (let slot = await nextSlot(); slot; slot = await nextSlot()) {
      signal?.throwIfAborted();
      const { entry } = slot;
      const name = contentEntryName(entry.path);
      const options = { mtime: entry.mtime, mode: entry.mode };
      if (entry.kind === "directory") {
        await roomInZip();
        zip.addDirectory(`${name}/`, options);
      } else if (entry.kind === "symlink") {
        await roomInZip();
        zip.addSymlink(name, entry.linkTarget!, options);
      } else {
        const fetched = await slot.fetched!;
        if (!isLarge(entry)) {
          smallAhead--;
          bytesAhead -= slot.bytes;
        }
        signal?.throwIfAborted();
        if (fetched.kind === "unreadable") {
          skipped.push({ name, reason: fetched.reason });
          continue;
        }
        await roomInZip();
        if (fetched.kind === "buffer") {
          received(fetched.data.length);
          inZip.push({ index: added, bytes: fetched.data.length });
          bytesInZip += fetched.data.length;
          zip.addBuffer(name, fetched.data, options);
        } else {
          try {
            lastStream = zip.addStream(name, fetched.source, options);
          } catch (error) {
            fetched.close();
            throw error;
          }
        }
      }
      added++;
    }
    // Its entry written, every earlier one is too: a connection lost while the zip read it rejects here.
    await lastStream;
    return skipped;
  } catch (error) {
    discard(ahead.splice(0));
    throw error;
  }
}

/** Lets go of files fetched ahead that will not be added: open streams are closed once they open. */
function discard(slots: Slot[]): void {
  for (const slot of slots) {
    slot.fetched?.then(
      (fetched) => {
        if (fetched.kind === "stream") fetched.close();
      },
      () => {},
    );
  }
}
