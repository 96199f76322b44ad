import type { Progress } from "../progress.js";

export type BackupPhase = "plan" | "databases" | "content" | "finish";

/** Progress of a running backup; `bytesOut` counts the bytes written to the container. */
export type BackupProgress = Progress<BackupPhase>;
