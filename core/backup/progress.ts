import type { ArchiveProgress } from "../archive/types.js";
import type { Progress } from "../progress.js";

export type BackupPhase = "plan" | "databases" | "content" | "finish";

/** Progress of a running backup; `bytesOut` counts the bytes written to the container. */
export type BackupProgress = Progress<BackupPhase>;

/**
 * A backup's progress in the terms of its plan: the home's files and their
 * bytes. The zip writer counts every entry it writes, the `meta` entry and the
 * database dumps included, which the plan's totals do not hold; those bytes are
 * left out, so the file counter and the bytes move together. A file that grew
 * after the walk is archived as read: the total then grows with it, since it is
 * at least what has been read.
 */
export class BackupProgressCounter {
  private phase: BackupPhase = "databases";
  /** Uncompressed bytes the writer counted before the first content entry (meta and dumps). */
  private bytesBeforeContent = 0;

  constructor(
    private readonly planned: { files: number; bytes: number },
    private readonly onProgress?: (progress: BackupProgress) => void,
  ) {}

  /**
   * Content starts: every entry before it is in the archive, holding this many
   * uncompressed bytes.
   */
  startContent(bytesBeforeContent: number): void {
    this.phase = "content";
    this.bytesBeforeContent = bytesBeforeContent;
  }

  /** One report of the zip writer. */
  archived(progress: ArchiveProgress): void {
    if (!this.onProgress) return;
    if (this.phase !== "content") {
      this.onProgress({ phase: this.phase, files: 0, totalFiles: this.planned.files, bytes: 0, totalBytes: this.planned.bytes, bytesOut: progress.bytesOut });
      return;
    }
    const bytes = progress.bytesIn - this.bytesBeforeContent;
    this.onProgress({
      phase: "content",
      files: progress.files,
      totalFiles: this.planned.files,
      bytes,
      totalBytes: Math.max(this.planned.bytes, bytes),
      bytesOut: progress.bytesOut,
    });
  }

  /** The archive is committed: what it holds is the total. */
  finished(archived: { bytes: number; bytesOut: number }): void {
    this.phase = "finish";
    // Files left out (unreadable when opened) were handled too: the count reaches the plan's.
    const files = this.planned.files;
    this.onProgress?.({ phase: "finish", files, totalFiles: files, bytes: archived.bytes, totalBytes: archived.bytes, bytesOut: archived.bytesOut });
  }
}
