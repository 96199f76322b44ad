import { formatSize, type Progress } from "../core/index.js";

export interface ProgressReporter {
  update(progress: Progress): void;
  stop(): void;
}

/**
 * On a terminal, a progress bar (files, bytes, rate, ETA); in CI logs, one line
 * every few seconds; with --json, JSON lines on stderr so stdout stays one result.
 */
export async function progressReporter(options: { json: boolean; stream?: NodeJS.WriteStream; intervalMs?: number }): Promise<ProgressReporter> {
  const stream = options.stream ?? process.stderr;
  if (options.json) return jsonLines(stream, options.intervalMs ?? 1000);
  // The bar's library (and the readline it draws with) loads only where a bar is drawn.
  if (stream.isTTY) return (await import("./progress-bar.js")).progressBar(stream);
  return periodicLines(stream, options.intervalMs ?? 5000);
}

/**
 * Prints at most once per interval, and the latest state at the end. With
 * `quietStart`, nothing is printed until one interval has passed, so short runs
 * stay silent in CI logs.
 */
function throttled(print: (p: Progress) => void, intervalMs: number, quietStart: boolean): ProgressReporter {
  const startTime = Date.now();
  let last = 0;
  let latest: Progress | undefined;
  const started = (now: number) => !quietStart || now - startTime >= intervalMs;
  return {
    update(p) {
      latest = p;
      const now = Date.now();
      if (now - last >= intervalMs && started(now)) {
        last = now;
        print(p);
      }
    },
    stop() {
      if (latest && started(Date.now())) print(latest);
    },
  };
}

function periodicLines(stream: NodeJS.WriteStream, intervalMs: number): ProgressReporter {
  const startTime = Date.now();
  return throttled(
    (p) => {
      const rate = p.bytes / Math.max(0.001, (Date.now() - startTime) / 1000);
      const eta = rate > 0 && p.totalBytes > p.bytes ? ` ETA ${Math.ceil((p.totalBytes - p.bytes) / rate)} s` : "";
      stream.write(
        `progress: ${p.phase} ${p.files}/${p.totalFiles} files, ${formatSize(p.bytes)}/${formatSize(p.totalBytes)}, ${formatSize(Math.round(rate))}/s${eta}\n`,
      );
    },
    intervalMs,
    true,
  );
}

function jsonLines(stream: NodeJS.WriteStream, intervalMs: number): ProgressReporter {
  return throttled((p) => stream.write(`${JSON.stringify({ type: "progress", ...p })}\n`), intervalMs, false);
}
