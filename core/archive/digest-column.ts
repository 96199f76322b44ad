import { randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const DIGEST_BYTES = 32;
/** Digests held in memory before they go to a temp file: 1 MiB, a home of 32k files. */
const DEFAULT_MEMORY_ROWS = 32 * 1024;
/** Rows written to, and read from, the temp file at a time. */
const WINDOW_ROWS = 8 * 1024;

export interface DigestColumnOptions {
  /** Rows kept in memory before the column moves to a temp file. */
  memoryRows?: number;
  /** Folder of the temp file. Default: the system's temp folder. */
  directory?: string;
  /** Rows moved between memory and the temp file at a time. */
  windowRows?: number;
}

/**
 * Each entry's SHA-256, 32 bytes a row: the largest column of a manifest
 * (a million-file home holds 32 MB of them), and one read only row by row as
 * content is checked, mostly in order. Up to a few thousand rows are kept in
 * memory; past that the column lives in an unlinked temp file, read and
 * written through one window each, so its memory does not grow with the home.
 * Without a usable temp folder the column stays in memory.
 */
export class DigestColumn {
  private memoryRows: number;
  private readonly directory: string;
  private readonly windowRows: number;
  /** The whole column while in memory. */
  private bytes: Buffer;
  private fd: number | undefined;
  private leftover: string | undefined;
  /** The rows being written, from `writeStart`: set() fills it, and it goes to the file when a row outside it is set. */
  private writeWindow = Buffer.alloc(0);
  private writeStart = 0;
  private writeDirty = false;
  /** The rows last read from the file, from `readStart` (`readRows` of them). */
  private readWindow = Buffer.alloc(0);
  private readStart = 0;
  private readRows = 0;
  private closed = false;

  constructor(options: DigestColumnOptions = {}) {
    this.memoryRows = Math.max(0, options.memoryRows ?? DEFAULT_MEMORY_ROWS);
    this.directory = options.directory ?? os.tmpdir();
    this.windowRows = Math.max(1, options.windowRows ?? WINDOW_ROWS);
    this.bytes = Buffer.alloc(0);
  }

  /** Whether the column moved to a temp file. */
  get spilled(): boolean {
    return this.fd !== undefined;
  }

  /** Sets a row's digest from `source[at, at + 32)`. */
  set(row: number, source: Uint8Array, at = 0): void {
    this.assertOpen();
    if (this.fd === undefined && row >= this.memoryRows) this.spill();
    if (this.fd === undefined) {
      this.growTo(row + 1);
      this.bytes.set(source.subarray(at, at + DIGEST_BYTES), row * DIGEST_BYTES);
      return;
    }
    this.moveWriteWindowTo(row);
    this.writeWindow.set(source.subarray(at, at + DIGEST_BYTES), (row - this.writeStart) * DIGEST_BYTES);
    this.writeDirty = true;
    // What was read before of this row is stale now.
    if (row >= this.readStart && row < this.readStart + this.readRows) this.readRows = 0;
  }

  /** Copies a row's digest into `target` at `at` (zeros for a row never set). */
  copyTo(row: number, target: Uint8Array, at = 0): void {
    this.assertOpen();
    if (this.fd === undefined) {
      const start = row * DIGEST_BYTES;
      if (start + DIGEST_BYTES <= this.bytes.length) target.set(this.bytes.subarray(start, start + DIGEST_BYTES), at);
      else target.fill(0, at, at + DIGEST_BYTES);
      return;
    }
    if (row >= this.writeStart && row < this.writeStart + this.windowRows) {
      const start = (row - this.writeStart) * DIGEST_BYTES;
      target.set(this.writeWindow.subarray(start, start + DIGEST_BYTES), at);
      return;
    }
    if (row < this.readStart || row >= this.readStart + this.readRows) this.fillReadWindow(row);
    const start = (row - this.readStart) * DIGEST_BYTES;
    target.set(this.readWindow.subarray(start, start + DIGEST_BYTES), at);
  }

  /** A row's digest as 64 hex digits. */
  hex(row: number): string {
    const digest = Buffer.allocUnsafe(DIGEST_BYTES);
    this.copyTo(row, digest);
    return digest.toString("hex");
  }

  /** Lets the digests go and closes the temp file; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bytes = Buffer.alloc(0);
    this.writeWindow = Buffer.alloc(0);
    this.readWindow = Buffer.alloc(0);
    if (this.fd !== undefined) {
      closeSync(this.fd);
      openColumns.unregister(this);
      this.fd = undefined;
    }
    if (this.leftover) removeQuietly(this.leftover);
  }

  private growTo(rows: number): void {
    if (rows * DIGEST_BYTES <= this.bytes.length) return;
    const doubled = Math.max(rows, (this.bytes.length / DIGEST_BYTES) * 2, 64);
    const larger = Buffer.alloc(Math.min(doubled, Math.max(rows, this.memoryRows)) * DIGEST_BYTES);
    this.bytes.copy(larger);
    this.bytes = larger;
  }

  private spill(): void {
    const file = path.join(this.directory, `app-backup-digests-${process.pid}-${randomBytes(6).toString("hex")}`);
    let fd: number;
    try {
      fd = openSync(file, "wx+", 0o600);
    } catch {
      // No usable temp folder: correctness first, the column stays in memory.
      this.memoryRows = Number.POSITIVE_INFINITY;
      return;
    }
    try {
      unlinkSync(file);
    } catch {
      // Windows keeps an open file's name: it goes on close.
      this.leftover = file;
    }
    this.fd = fd;
    // Closed with the table if nobody closes it (a table dropped on an error path).
    openColumns.register(this, { fd, leftover: this.leftover }, this);
    this.writeAll(this.bytes, 0);
    this.bytes = Buffer.alloc(0);
    this.writeWindow = Buffer.alloc(this.windowRows * DIGEST_BYTES);
    this.writeStart = -this.windowRows;
    this.readWindow = Buffer.alloc(this.windowRows * DIGEST_BYTES);
  }

  /** Makes the write window hold `row`, saving the rows it held and loading what the file has of the new ones. */
  private moveWriteWindowTo(row: number): void {
    if (row >= this.writeStart && row < this.writeStart + this.windowRows) return;
    this.flushWriteWindow();
    this.writeStart = row - (row % this.windowRows);
    this.readInto(this.writeWindow, this.writeStart);
  }

  private flushWriteWindow(): void {
    if (!this.writeDirty) return;
    this.writeAll(this.writeWindow, this.writeStart * DIGEST_BYTES);
    this.writeDirty = false;
  }

  private fillReadWindow(row: number): void {
    this.readStart = row - (row % this.windowRows);
    this.readRows = this.readInto(this.readWindow, this.readStart);
  }

  /** Reads the file's rows from `firstRow` into `window`, zeros past its end; returns the rows the window now holds. */
  private readInto(window: Buffer, firstRow: number): number {
    let done = 0;
    while (done < window.length) {
      const read = readSync(this.fd!, window, done, window.length - done, firstRow * DIGEST_BYTES + done);
      if (read === 0) break;
      done += read;
    }
    window.fill(0, done);
    return this.windowRows;
  }

  private writeAll(bytes: Buffer, position: number): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd!, bytes, done, bytes.length - done, position + done);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("Internal error: a digest column was used after it was closed.");
  }
}

const openColumns = new FinalizationRegistry<{ fd: number; leftover?: string }>(({ fd, leftover }) => {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
  if (leftover) removeQuietly(leftover);
});

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
