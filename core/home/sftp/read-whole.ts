import { fileError, RemoteFileUnreadable, sizeChanged } from "./read.js";
import type { SftpSession } from "./connection.js";

/**
 * Reads a small remote file whole: open, one read of one byte more than the
 * walk saw, close. The extra byte tells a file that grew without a round trip
 * of its own; a read that comes back short before `expectedSize` is asked again
 * (servers other than OpenSSH may cap a read), and one that ends at exactly
 * `expectedSize` is taken as the end of the file. The handle is closed without
 * waiting for the answer: the bytes are already here.
 *
 * Fails with RemoteFileUnreadable when the file vanished, was refused or is not
 * `expectedSize` bytes; with HOME_UNREACHABLE when the connection is lost.
 */
export async function readSftpWhole(session: SftpSession, path: string, expectedSize: number): Promise<Buffer> {
  let handle: Buffer;
  try {
    handle = await session.request<Buffer>((sftp, done) => sftp.open(path, "r", done), `opening ${path}`);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    const wanted = expectedSize + 1;
    const buffer = Buffer.allocUnsafe(wanted);
    let filled = 0;
    while (filled < wanted) {
      const asked = wanted - filled;
      const at = filled;
      const count = await session.request<number>((sftp, done) => sftp.read(handle, buffer, at, asked, at, (error, bytesRead) => done(error, bytesRead)), `reading ${path}`);
      filled += count;
      if (count === 0 || (count < asked && filled >= expectedSize)) break;
    }
    if (filled > expectedSize) throw new RemoteFileUnreadable(path, `it grew since the walk (${expectedSize} bytes expected, more found)`);
    if (filled < expectedSize) throw new RemoteFileUnreadable(path, sizeChanged(expectedSize, filled));
    return buffer.subarray(0, expectedSize);
  } catch (error) {
    throw fileError(path, error);
  } finally {
    if (!session.closed) session.request<void>((sftp, done) => sftp.close(handle, done), `closing ${path}`).catch(() => {});
  }
}
