/**
 * How far a backup, restore or verify has got, in the one shape every progress
 * display (a bar, CI log lines, JSON lines) reads; `Phase` names the run's steps.
 */
export interface Progress<Phase extends string = string> {
  phase: Phase;
  files: number;
  totalFiles: number;
  /** Uncompressed bytes handled so far. */
  bytes: number;
  totalBytes: number;
  /** Bytes written to the destination so far. */
  bytesOut: number;
}
