import { open, type FileHandle } from "node:fs/promises";
import type { ByteSink } from "./types.js";

/** A sink writing to a local file (created or truncated); `close()` when the archive is finished or abandoned. */
export interface FileSink extends ByteSink {
  readonly path: string;
  readonly bytesWritten: number;
  close(): Promise<void>;
}

export async function fileSink(path: string): Promise<FileSink> {
  const handle: FileHandle = await open(path, "w");
  let bytesWritten = 0;
  let closed = false;
  return {
    path,
    get bytesWritten() {
      return bytesWritten;
    },
    async write(chunk: Buffer) {
      let at = 0;
      while (at < chunk.length) {
        const { bytesWritten: n } = await handle.write(chunk, at, chunk.length - at);
        at += n;
      }
      bytesWritten += chunk.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}
