export type BackupPhase = "plan" | "databases" | "content" | "finish";

/** Progress of a running backup, reported to the CLI's bar, CI log lines or JSON lines. */
export interface BackupProgress {
  phase: BackupPhase;
  files: number;
  totalFiles: number;
  /** Uncompressed bytes archived so far. */
  bytes: number;
  totalBytes: number;
  /** Bytes written to the container so far. */
  bytesOut: number;
}
