import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { BackupProgress } from "../core/index.js";
import { progressReporter } from "./progress.js";

function fakeStream(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number; cursorTo?: unknown; clearLine?: unknown; moveCursor?: unknown };
  let text = "";
  stream.on("data", (chunk) => (text += chunk));
  stream.isTTY = isTTY;
  stream.columns = 120;
  stream.cursorTo = (_x: number, _y?: number, cb?: () => void) => (cb?.(), true);
  stream.clearLine = (_dir: number, cb?: () => void) => (cb?.(), true);
  stream.moveCursor = (_dx: number, _dy: number, cb?: () => void) => (cb?.(), true);
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

const step = (files: number, bytes: number): BackupProgress => ({
  phase: "content",
  files,
  totalFiles: 10,
  bytes,
  totalBytes: 1000,
  bytesOut: bytes / 2,
});

describe("progressReporter", () => {
  it("draws a bar with files, bytes, rate and ETA on a terminal", async () => {
    const { stream, text } = fakeStream(true);
    const reporter = await progressReporter({ json: false, stream });
    reporter.update(step(1, 100));
    reporter.update(step(5, 500));
    reporter.stop();
    expect(text()).toMatch(/\d+% \| \d+\/10 files \| .* B\/1000 B \| .*\/s \| ETA/);
  });

  it("prints a plain line every interval in CI logs", async () => {
    const { stream, text } = fakeStream(false);
    const reporter = await progressReporter({ json: false, stream, intervalMs: 20 });
    reporter.update(step(1, 100));
    await new Promise((r) => setTimeout(r, 30));
    reporter.update(step(5, 500));
    reporter.stop();
    expect(text()).toMatch(/^progress: content 5\/10 files, 500 B\/1000 B, .*\/s ETA \d+ s$/m);
    expect(text()).not.toContain("\u001b[");
  });

  it("emits JSON lines with --json", async () => {
    const { stream, text } = fakeStream(true);
    const reporter = await progressReporter({ json: true, stream });
    reporter.update(step(1, 100));
    reporter.update(step(10, 1000));
    reporter.stop();
    const lines = text().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ type: "progress", ...step(1, 100) });
    expect(lines.at(-1)).toEqual({ type: "progress", ...step(10, 1000) });
  });
});
