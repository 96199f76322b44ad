import type { AppBackupOptions } from "../../core/index.js";
import type { StateStore } from "./temporary-files.js";

/** Every output the Action sets; action.yml documents each one (a test keeps the two equal). */
export const outputNames = [
  "backup-name",
  "status",
  "zip-url",
  "manifest-url",
  "log-url",
  "size-bytes",
  "files",
  "duration-ms",
  "backups",
  "backups-total",
  "due",
  "pruned",
  "exit-code",
] as const;
export type OutputName = (typeof outputNames)[number];

/**
 * What an operation writes to: the step's log, annotations, outputs, job
 * summary and state. The implementation redacts every value it is given.
 */
export interface Reporter {
  info(text: string): void;
  /** A warning annotation on the run. */
  warning(text: string): void;
  output(name: OutputName, value: string | number): void;
  /** Appends Markdown to the job summary. */
  summary(markdown: string): Promise<void>;
  /** Masks the secrets of options resolved while the operation runs (a stored configuration's). */
  learnSecrets(options: AppBackupOptions): void;
  readonly state: StateStore;
}

/** How an operation ended; `failure` makes the step fail with that message, and exit with `exitCode` (default 1). */
export interface OperationOutcome {
  failure?: string;
  exitCode?: number;
}
