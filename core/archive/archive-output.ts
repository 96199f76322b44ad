import type { ByteSink } from "./types.js";

/** Pieces at least this big go to the sink as they are; smaller ones are gathered first. */
const DIRECT_WRITE_SIZE = 256 * 1024;

/**
 * The archive's byte stream: counts the position (entry offsets come from it)
 * and gathers the many small headers and entries into sink writes of about
 * `bufferSize`, so a tree of small files does not cost one sink write each.
 * A buffer handed to the sink is never reused: a sink may keep it.
 */
export class ArchiveOutput {
  position = 0;
  private pending: Buffer;
  private pendingLength = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly bufferSize = 1024 * 1024,
  ) {
    this.pending = Buffer.allocUnsafeSlow(bufferSize);
  }

  async write(piece: Uint8Array): Promise<void> {
    this.position += piece.length;
    if (piece.length >= DIRECT_WRITE_SIZE) {
      await this.flush();
      await this.sink.write(Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length));
      return;
    }
    if (this.pendingLength + piece.length > this.bufferSize) await this.flush();
    this.pending.set(piece, this.pendingLength);
    this.pendingLength += piece.length;
  }

  async flush(): Promise<void> {
    if (this.pendingLength === 0) return;
    const full = this.pending.subarray(0, this.pendingLength);
    this.pending = Buffer.allocUnsafeSlow(this.bufferSize);
    this.pendingLength = 0;
    await this.sink.write(full);
  }
}
