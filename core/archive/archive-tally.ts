import type { ArchiveOutput } from "./archive-output.js";
import type { ArchiveProgress } from "./types.js";
import { monotonicMs } from "../monotonic-clock.js";

const PROGRESS_INTERVAL_MS = 100;

/**
 * What has gone into the archive so far: checked against the size limit, and
 * reported as progress at most every 100 ms (callers pass every step, the
 * throttle keeps the callback cheap) and once at the end.
 */
export class ArchiveTally {
  /** Files written or skipped. */
  files = 0;
  /** Uncompressed bytes of the entries written. */
  bytesIn = 0;
  /** Uncompressed bytes read so far of the large file or stream being written. */
  bytesInCurrent = 0;
  private lastReport = 0;

  constructor(
    private readonly output: ArchiveOutput,
    private readonly onProgress?: (progress: ArchiveProgress) => void,
  ) {}

  /** An entry is in the archive: its bytes count, and none are in progress. */
  entryWritten(size: number): void {
    this.bytesIn += size;
    this.bytesInCurrent = 0;
  }

  report(force: boolean): void {
    const onProgress = this.onProgress;
    if (!onProgress) return;
    const now = monotonicMs();
    if (!force && now - this.lastReport < PROGRESS_INTERVAL_MS) return;
    this.lastReport = now;
    onProgress({ files: this.files, bytesIn: this.bytesIn + this.bytesInCurrent, bytesOut: this.output.position });
  }
}
