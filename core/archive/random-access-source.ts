import { open } from "node:fs/promises";

/** Bytes that can be read at any offset: a local file, a buffer, or ranged blob reads. */
export interface RandomAccessSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset`; rejects if the source is shorter. */
  read(offset: number, length: number): Promise<Buffer>;
  /** Fills `target[0, length)` with the bytes at `offset`, so a reader can reuse one buffer; rejects if the source is shorter. */
  readInto?(target: Uint8Array, offset: number, length: number): Promise<void>;
  /** False for blob storage, where every read is a round trip: readers then ask for fewer, larger ranges. */
  readonly local?: boolean;
  close?(): Promise<void>;
}

/** A source whose reads can fill a caller's buffer; what restore asks of a zip. */
export interface ReusableBufferSource extends RandomAccessSource {
  readInto(target: Uint8Array, offset: number, length: number): Promise<void>;
  readonly local: boolean;
}

/** A local file; `close()` it when done. */
export async function fileSource(path: string): Promise<ReusableBufferSource> {
  const handle = await open(path, "r");
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  const readInto = async (target: Uint8Array, offset: number, length: number) => {
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(target, filled, length - filled, offset + filled);
      if (bytesRead === 0) throw new RangeError(`${path} ended at ${offset + filled} bytes while reading ${length} bytes at offset ${offset}.`);
      filled += bytesRead;
    }
  };
  return readingInto({ size, local: true, readInto, close: () => handle.close() });
}

/** A source made from its `readInto`: `read` fills a fresh buffer. */
export function readingInto(source: Omit<ReusableBufferSource, "read">): ReusableBufferSource {
  return {
    ...source,
    async read(offset, length) {
      // Never a slice of the shared pool: a reader may hand the buffer to a worker thread.
      const buffer = Buffer.allocUnsafeSlow(length);
      await source.readInto(buffer, offset, length);
      return buffer;
    },
  };
}

export function bufferSource(data: Buffer): RandomAccessSource {
  return {
    size: data.length,
    async read(offset: number, length: number): Promise<Buffer> {
      if (offset < 0 || offset + length > data.length) throw new RangeError(`Read of ${length} bytes at ${offset} is outside the ${data.length}-byte buffer.`);
      return data.subarray(offset, offset + length);
    },
  };
}
