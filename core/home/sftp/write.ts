import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import type { Attributes, FileEntry, Stats } from "ssh2";
import { AppBackupError } from "../../errors.js";
import { describeHostPort } from "./address.js";
import { sftpStatus, type SftpSession } from "./connection.js";

const writeChunkSize = 64 * 1024;
const writesAhead = 8;
/** Requests a tree removal keeps in flight. */
const removalConcurrency = 8;
/** A journal is small: more than this is not one of ours. */
const smallFileLimit = 16 * 1024 * 1024;

const posixRename = "posix-rename@openssh.com";
const fsyncExtension = "fsync@openssh.com";

/** Creates a folder (its parent must exist); one that is already there is fine. */
export async function makeRemoteFolder(session: SftpSession, path: string, mode = 0o755): Promise<void> {
  try {
    await session.request<void>((sftp, done) => sftp.mkdir(path, { mode }, done), `creating the folder ${path}`);
  } catch (error) {
    // OpenSSH answers a folder that exists with a bare failure: look before calling it one.
    const existing = await lstatOrUndefined(session, path);
    if (existing?.isDirectory()) return;
    throw remoteFailure(session, `create the folder ${path}`, error);
  }
}

/**
 * Writes a file from a stream, several writes in flight, then makes it durable
 * (fsync, when the server offers fsync@openssh.com) and gives it its mode and mtime.
 * The file is written in place: write to a temporary name and rename it for a switch
 * that readers never see half done.
 */
export async function writeRemoteFile(
  session: SftpSession,
  path: string,
  source: Readable | AsyncIterable<Buffer> | Iterable<Buffer>,
  attributes: { mode: number; mtime: Date },
): Promise<number> {
  let handle: Buffer;
  try {
    handle = await session.request<Buffer>((sftp, done) => sftp.open(path, "w", { mode: 0o600 }, done), `creating ${path}`);
  } catch (error) {
    throw remoteFailure(session, `create ${path}`, error);
  }
  let position = 0;
  try {
    const inFlight = new Set<Promise<void>>();
    let failed: { error: unknown } | undefined;
    for await (const chunk of source as AsyncIterable<Buffer> | Iterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; offset += writeChunkSize) {
        // Waiting here stops reading the source: backpressure reaches whoever feeds it.
        while (inFlight.size >= writesAhead) await Promise.race(inFlight);
        if (failed) throw failed.error;
        const piece = chunk.subarray(offset, offset + writeChunkSize);
        const at = position;
        const write: Promise<void> = session
          .request<void>((sftp, done) => sftp.write(handle, piece, 0, piece.length, at, done), `writing ${path}`)
          .catch((error: unknown) => void (failed ??= { error }))
          .finally(() => inFlight.delete(write));
        inFlight.add(write);
        position += piece.length;
      }
    }
    await Promise.all(inFlight);
    if (failed) throw failed.error;
    if (session.supports(fsyncExtension)) await session.request<void>((sftp, done) => sftp.ext_openssh_fsync(handle, (error) => done(error)), `syncing ${path}`);
    await session.request<void>((sftp, done) => sftp.fchmod(handle, attributes.mode & 0o7777, done), `setting the mode of ${path}`);
    await session.request<void>((sftp, done) => sftp.futimes(handle, attributes.mtime, attributes.mtime, done), `setting the mtime of ${path}`);
    await session.request<void>((sftp, done) => sftp.close(handle, done), `closing ${path}`);
  } catch (error) {
    if (!session.closed) await session.request<void>((sftp, done) => sftp.close(handle, done)).catch(() => {});
    // The server's refusals carry an SFTP status number; anything else (the source failing) goes on as it is.
    throw typeof (error as { code?: unknown }).code === "number" ? remoteFailure(session, `write ${path}`, error) : error;
  }
  return position;
}

/** Gives an existing file or folder its mode and mtime (a folder's, once what it holds is written). */
export async function setRemoteAttributes(session: SftpSession, path: string, attributes: { mode: number; mtime: Date }): Promise<void> {
  await session
    .request<void>((sftp, done) => sftp.setstat(path, { mode: attributes.mode & 0o7777, atime: attributes.mtime, mtime: attributes.mtime }, done), `setting the attributes of ${path}`)
    .catch((error: unknown) => {
      throw remoteFailure(session, `set the mode and mtime of ${path}`, error);
    });
}

/** Creates a symlink at `linkPath` pointing to `target`, which is stored as given (relative stays relative). */
export async function makeRemoteSymlink(session: SftpSession, linkPath: string, target: string): Promise<void> {
  // ssh2 swaps the two paths on the wire for OpenSSH, whose SSH_FXP_SYMLINK takes them in the opposite order to the draft.
  await session.request<void>((sftp, done) => sftp.symlink(target, linkPath, done), `creating the symlink ${linkPath}`).catch((error: unknown) => {
    throw remoteFailure(session, `create the symlink ${linkPath}`, error);
  });
}

/**
 * Renames `from` to `to`, replacing `to` at once if it exists (POSIX rename(2), via
 * posix-rename@openssh.com). Plain SFTP rename refuses an existing target, and
 * removing it first would leave a moment with neither: a server without the
 * extension is refused.
 */
export async function renameRemote(session: SftpSession, from: string, to: string): Promise<void> {
  if (!session.supports(posixRename)) {
    throw new AppBackupError(
      "HOME_REFUSED",
      `The SFTP server ${describeHostPort(session.address)} does not offer ${posixRename}, which is needed to replace files on it atomically.`,
      "Use an OpenSSH server (its sftp-server and internal-sftp offer it), or restore into a local home.",
    );
  }
  await session.request<void>((sftp, done) => sftp.ext_openssh_rename(from, to, done), `renaming ${from} to ${to}`).catch((error: unknown) => {
    throw remoteFailure(session, `rename ${from} to ${to}`, error);
  });
}

/**
 * Removes a file, symlink or folder with everything under it; one that is not there is
 * fine. Symlinks are removed, never followed. Folders' contents are removed a few at
 * a time, in parallel: each removal is a round trip.
 */
export async function removeRemoteTree(session: SftpSession, path: string): Promise<void> {
  const stats = await lstatOrUndefined(session, path);
  if (!stats) return;
  if (!stats.isDirectory()) return removeEntry(session, path, false);
  await removeFolderContents(session, path);
  await removeEntry(session, path, true);
}

async function removeFolderContents(session: SftpSession, folder: string): Promise<void> {
  let entries: FileEntry[];
  try {
    entries = await session.request<FileEntry[]>((sftp, done) => sftp.readdir(folder, done), `listing ${folder}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return;
    throw remoteFailure(session, `list ${folder}`, error);
  }
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const entry = entries[next++]!;
      const child = posix.join(folder, entry.filename);
      if (isFolder(entry.attrs)) {
        await removeFolderContents(session, child);
        await removeEntry(session, child, true);
      } else {
        await removeEntry(session, child, false);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(removalConcurrency, entries.length) }, worker));
}

async function removeEntry(session: SftpSession, path: string, folder: boolean): Promise<void> {
  try {
    await session.request<void>((sftp, done) => (folder ? sftp.rmdir(path, done) : sftp.unlink(path, done)), `removing ${path}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return;
    throw remoteFailure(session, `remove ${path}`, error);
  }
}

/** Reads a small file (a journal) whole; undefined when it does not exist. */
export async function readRemoteSmallFile(session: SftpSession, path: string): Promise<Buffer | undefined> {
  let handle: Buffer;
  try {
    handle = await session.request<Buffer>((sftp, done) => sftp.open(path, "r", done), `opening ${path}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return undefined;
    throw remoteFailure(session, `read ${path}`, error);
  }
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(writeChunkSize);
      const count = await session.request<number>((sftp, done) => sftp.read(handle, buffer, 0, buffer.length, total, (error, bytesRead) => done(error, bytesRead)), `reading ${path}`);
      if (count === 0) break;
      parts.push(buffer.subarray(0, count));
      total += count;
      if (total > smallFileLimit) throw new AppBackupError("RESTORE", `${path} on the SFTP server is larger than ${smallFileLimit} bytes: it is not a file app-backup wrote.`, "Remove or rename it.");
    }
    return Buffer.concat(parts);
  } catch (error) {
    throw remoteFailure(session, `read ${path}`, error);
  } finally {
    if (!session.closed) await session.request<void>((sftp, done) => sftp.close(handle, done)).catch(() => {});
  }
}

/**
 * Replaces a small file (a journal) so that a reader finds the old content or the
 * new, never a mix: written under a temporary name beside it, made durable, then
 * renamed over it.
 */
export async function writeRemoteSmallFileAtomically(session: SftpSession, path: string, content: Buffer | string, mode = 0o600): Promise<void> {
  const temporary = posix.join(posix.dirname(path), `.${posix.basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const data = typeof content === "string" ? Buffer.from(content) : content;
  try {
    await writeRemoteFile(session, temporary, [data], { mode, mtime: new Date() });
    await renameRemote(session, temporary, path);
  } catch (error) {
    if (!session.closed) await removeEntry(session, temporary, false).catch(() => {});
    throw error;
  }
}

async function lstatOrUndefined(session: SftpSession, path: string): Promise<Stats | undefined> {
  try {
    return await session.request<Stats>((sftp, done) => sftp.lstat(path, done), `reading the attributes of ${path}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === sftpStatus.noSuchFile) return undefined;
    throw remoteFailure(session, `read the attributes of ${path}`, error);
  }
}

function isFolder(attrs: Attributes): boolean {
  return (attrs.mode & 0o170000) === 0o040000;
}

/** A failed remote operation: a lost connection as it is, anything else as a RESTORE error naming the path. */
function remoteFailure(session: SftpSession, action: string, error: unknown): AppBackupError {
  if (error instanceof AppBackupError) return error;
  const code = (error as { code?: unknown }).code;
  const reason =
    code === sftpStatus.permissionDenied ? "permission denied" : code === sftpStatus.noSuchFile ? "no such file or folder" : `the server answered: ${(error as Error).message}`;
  return new AppBackupError(
    "RESTORE",
    `Cannot ${action} on the SFTP server ${describeHostPort(session.address)}: ${reason}.`,
    `Check that user "${session.address.user}" may write there on the server.`,
    { cause: error },
  );
}
