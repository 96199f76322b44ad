import type { ByteSink } from "./types.js";

/**
 * A byte stream into a sink (an archive's; the backup streams its manifest
 * through one too): counts the position (entry offsets come from it)
 * and copies every piece into buffers of `bufferSize` that go to the sink.
 * Copying lets workers reuse their output slots at once and turns the many
 * small headers and entries of a tree into few sink writes. A buffer comes
 * back for reuse once the sink's write settles: a fresh buffer per write would
 * leave hundreds of MiB of dead buffers waiting for a full garbage collection.
 */
export class ArchiveOutput {
  position = 0;
  private pending: Buffer;
  private pendingLength = 0;
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly sink: ByteSink,
    private readonly bufferSize = 1024 * 1024,
  ) {
    this.pending = Buffer.allocUnsafeSlow(bufferSize);
  }

  /** Copies `piece`; returns a promise only when a full buffer had to go to the sink first. */
  write(piece: Uint8Array): Promise<void> | undefined {
    this.position += piece.length;
    if (this.pendingLength + piece.length <= this.bufferSize) {
      this.pending.set(piece, this.pendingLength);
      this.pendingLength += piece.length;
      return undefined;
    }
    return this.writeAcrossBuffers(piece);
  }

  /** Writes `text` as UTF-8, encoded straight into the current buffer when it fits there. */
  writeText(text: string): Promise<void> | undefined {
    // Room for the longest encoding (3 bytes per UTF-16 unit): one pass encodes it, with no measuring pass first.
    if (this.pendingLength + text.length * 3 <= this.bufferSize) {
      const written = this.pending.write(text, this.pendingLength);
      this.pendingLength += written;
      this.position += written;
      return undefined;
    }
    const size = Buffer.byteLength(text);
    if (this.pendingLength + size > this.bufferSize) return this.write(Buffer.from(text));
    this.pending.write(text, this.pendingLength);
    this.pendingLength += size;
    this.position += size;
    return undefined;
  }

  /** Encodes `size` bytes with `encode` straight into the current buffer when they fit there. */
  writeEncoded<T>(size: number, encode: (target: Buffer, at: number, fields: T) => void, fields: T): Promise<void> | undefined {
    if (this.pendingLength + size > this.bufferSize) {
      const piece = Buffer.allocUnsafe(size);
      encode(piece, 0, fields);
      return this.write(piece);
    }
    encode(this.pending, this.pendingLength, fields);
    this.pendingLength += size;
    this.position += size;
    return undefined;
  }

  private async writeAcrossBuffers(piece: Uint8Array): Promise<void> {
    let at = 0;
    while (at < piece.length) {
      if (this.pendingLength === this.bufferSize) await this.flush();
      const take = Math.min(piece.length - at, this.bufferSize - this.pendingLength);
      this.pending.set(piece.subarray(at, at + take), this.pendingLength);
      this.pendingLength += take;
      at += take;
    }
  }

  async flush(): Promise<void> {
    if (this.pendingLength === 0) return;
    const buffer = this.pending;
    const full = buffer.subarray(0, this.pendingLength);
    this.pending = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
    this.pendingLength = 0;
    await this.sink.write(full);
    this.spare.push(buffer);
  }
}
