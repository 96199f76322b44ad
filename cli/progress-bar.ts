import cliProgress from "cli-progress";
import { formatSize } from "../core/index.js";
import type { ProgressReporter } from "./progress.js";

/** Progress on a terminal: a bar with files, bytes, rate and ETA. */
export function progressBar(stream: NodeJS.WriteStream): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: " {bar} {percentage}% | {files}/{totalFiles} files | {doneSize}/{totalSize} | {rate}/s | ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const startTime = Date.now();
  return {
    update(p) {
      const payload = {
        files: p.files,
        totalFiles: p.totalFiles,
        doneSize: formatSize(p.bytes),
        totalSize: formatSize(p.totalBytes),
        rate: formatSize(Math.round(p.bytes / Math.max(0.001, (Date.now() - startTime) / 1000))),
      };
      if (!started) {
        bar.start(Math.max(1, p.totalBytes), p.bytes, payload);
        started = true;
      } else {
        // The total can grow (a file grew after the walk); core keeps bytes within it.
        bar.setTotal(Math.max(1, p.totalBytes));
        bar.update(p.bytes, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
