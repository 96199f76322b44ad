import { Readable } from "node:stream";
import type { Stats } from "ssh2";
import { AppBackupError } from "../../errors.js";
import { sftpStatus, type SftpSession } from "./connection.js";
import { pathReason } from "./walk.js";

/**
 * A file of the remote home that could not be read as planned: it vanished, was
 * refused, or changed size since the walk. The path goes on the backup's list of
 * unreadable files, as a local one would; a lost connection is an AppBackupError instead.
 */
export class RemoteFileUnreadable extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Cannot read ${path} over SFTP: ${reason}.`);
    this.name = "RemoteFileUnreadable";
  }
}

export interface SftpReadOptions {
  /** Bytes per read request; default 64 KiB. */
  chunkSize?: number;
  /** Read requests kept in flight; default 8. */
  requestsAhead?: number;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Streams a remote file of `expectedSize` bytes (the size the walk saw). Several
 * reads are kept in flight, as ssh2's fastGet does, so a slow link is not paid a
 * round trip per chunk; the bytes still come out in order, and no more reads are
 * asked for while the consumer pushes back, so memory stays at about
 * `requestsAhead × chunkSize`. The stream fails with RemoteFileUnreadable if the
 * file vanished or its size is not `expectedSize` (checked when opened and again
 * at its end, so a file that shrank or grew while read fails too).
 */
export function openSftpRead(session: SftpSession, path: string, expectedSize: number, options: SftpReadOptions = {}): Readable {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const requestsAhead = options.requestsAhead ?? 8;
  let handle: Buffer | undefined;
  /** Reads asked for, in file order, each with its position and length. */
  const inFlight: Array<{ length: number; result: Promise<Settled<Buffer>> }> = [];
  let nextPosition = 0;
  let delivered = 0;
  let pumping = false;

  const fill = () => {
    while (inFlight.length < requestsAhead && nextPosition < expectedSize) {
      const length = Math.min(chunkSize, expectedSize - nextPosition);
      inFlight.push({ length, result: settle(readFully(session, handle!, path, nextPosition, length)) });
      nextPosition += length;
    }
  };

  const stream = new Readable({
    highWaterMark: chunkSize,
    construct(callback) {
      session
        .request<Buffer>((sftp, done) => sftp.open(path, "r", done), `opening ${path}`)
        .then(async (opened) => {
          handle = opened;
          const stats = await session.request<Stats>((sftp, done) => sftp.fstat(opened, done), `reading the size of ${path}`);
          if (stats.size !== expectedSize) throw new RemoteFileUnreadable(path, sizeChanged(expectedSize, stats.size));
        })
        .then(
          () => callback(),
          (error: unknown) => callback(fileError(path, error)),
        );
    },
    read() {
      // A call while a pump runs needs nothing: the pump goes on while the consumer takes what it pushes.
      if (pumping) return;
      pumping = true;
      void pump();
    },
    destroy(error, callback) {
      // Reads still in flight settle on their own; the handle is closed after them.
      if (handle && !session.closed) {
        const opened = handle;
        void Promise.all(inFlight.map((read) => read.result))
          .then(() => session.request((sftp, done) => sftp.close(opened, done), `closing ${path}`))
          .catch(() => {});
      }
      callback(error);
    },
  });

  async function pump(): Promise<void> {
    try {
      for (;;) {
        fill();
        const next = inFlight[0];
        if (!next) break;
        const settled = await next.result;
        inFlight.shift();
        if (stream.destroyed) return;
        if (!settled.ok) throw fileError(path, settled.error);
        if (settled.value.length < next.length) throw new RemoteFileUnreadable(path, sizeChanged(expectedSize, delivered + settled.value.length, true));
        delivered += settled.value.length;
        if (!stream.push(settled.value)) return;
      }
      // Everything expected came: one byte more would mean the file grew.
      const beyond = await readFully(session, handle!, path, expectedSize, 1);
      if (beyond.length > 0) throw new RemoteFileUnreadable(path, sizeChanged(expectedSize, expectedSize + beyond.length, true));
      await session.request((sftp, done) => sftp.close(handle!, done), `closing ${path}`);
      handle = undefined;
      stream.push(null);
    } catch (error) {
      stream.destroy(fileError(path, error));
    } finally {
      // Cleared as the pump stops, not a tick later, so the consumer's next read() starts it again.
      pumping = false;
    }
  }

  return stream;
}

/** Reads `length` bytes at `position`, asking again after a short read; fewer only at the end of the file. */
async function readFully(session: SftpSession, handle: Buffer, path: string, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const count = await session.request<number>((sftp, done) => sftp.read(handle, buffer, filled, length - filled, position + filled, (error, bytesRead) => done(error, bytesRead)), `reading ${path}`);
    if (count === 0) break;
    filled += count;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Why a file whose size is not the walk's was left out, in the words of the backup's log. */
export function sizeChanged(expected: number, found: number, whileRead = false): string {
  const how = found < expected ? "shrank" : "grew";
  return `it ${how} ${whileRead ? "while it was read" : "since the walk"} (${expected} bytes expected, ${whileRead && found > expected ? "more" : found} found)`;
}

/** A file's own failure (vanished, refused) as RemoteFileUnreadable; a lost connection stays as it is. */
export function fileError(path: string, error: unknown): Error {
  if (error instanceof AppBackupError || error instanceof RemoteFileUnreadable) return error;
  const code = (error as { code?: unknown }).code;
  if (code === sftpStatus.noSuchFile || code === sftpStatus.permissionDenied || code === sftpStatus.failure) return new RemoteFileUnreadable(path, pathReason(error));
  return error as Error;
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
