import { closeSync, read } from "node:fs";
import { promisify } from "./promisify.js";
import { describe, openRegularFile } from "./file-batch.js";

const readAsync = promisify(read);

/**
 * A large file read in order, one chunk at a time into one buffer, up to the
 * size it had when opened: a file that shrank gives what is left, and one still
 * being appended to gives a consistent prefix (as small files do).
 */
export class FileChunks {
  private position = 0;

  private constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly buffer: Buffer,
  ) {}

  /** Opens `path`, which must still be a regular file; the reason in words when it cannot be. */
  static open(path: string, buffer: Buffer): FileChunks | { reason: string } {
    const opened = openRegularFile(path);
    if (opened.reason !== undefined) return { reason: opened.reason };
    return new FileChunks(opened.fd, opened.size, buffer);
  }

  /** The next chunk, valid until the next call; undefined at the end. Read errors are described in words. */
  async next(): Promise<Buffer | undefined> {
    const wanted = Math.min(this.buffer.length, this.size - this.position);
    let length = 0;
    try {
      while (length < wanted) {
        const { bytesRead } = await readAsync(this.fd, this.buffer, length, wanted - length, this.position + length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
    } catch (error) {
      throw new Error(describe(error));
    }
    this.position += length;
    return length === 0 ? undefined : this.buffer.subarray(0, length);
  }

  close(): void {
    closeSync(this.fd);
  }
}
