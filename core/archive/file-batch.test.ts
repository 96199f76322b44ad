import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSmallFile } from "./file-batch.js";

const folder = mkdtempSync(path.join(os.tmpdir(), "file-batch-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const at = path.join(folder, name);
  writeFileSync(at, content);
  return at;
}

/** What was read, as text, or why not. */
function read(at: string, listed: number): string | { reason: string } {
  const result = readSmallFile(at, listed);
  return Buffer.isBuffer(result) ? result.toString() : result;
}

describe("readSmallFile", () => {
  it("reads a file as it is when read, whatever size it was listed with", () => {
    const content = "x".repeat(3000);
    const at = file("text.txt", content);
    expect(read(at, 3000)).toBe(content);
    // Grew since it was listed, shrank, listed with no usable size.
    expect(read(at, 10)).toBe(content);
    expect(read(at, 5000)).toBe(content);
    expect(read(at, 0)).toBe(content);
    expect(read(at, Number.NaN)).toBe(content);
    expect(read(file("empty.txt", ""), 0)).toBe("");
    // Larger than the read buffer starts with.
    const large = "y".repeat(600 * 1024);
    expect(read(file("large.txt", large), 1000)).toBe(large);
    expect(read(file("large-as-listed.txt", large), large.length)).toBe(large);
  });

  it("turns away what is no longer a regular file, or no longer there", () => {
    const fifo = path.join(folder, "pipe");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const sub = path.join(folder, "now-a-folder");
    mkdirSync(sub);
    // An empty regular file and an empty FIFO read alike: the size listed does not decide.
    expect(read(fifo, 0)).toEqual({ reason: "it is no longer a regular file" });
    expect(read(fifo, 12)).toEqual({ reason: "it is no longer a regular file" });
    expect(read(sub, 12)).toEqual({ reason: "it is no longer a regular file" });
    expect(read(path.join(folder, "missing.txt"), 12)).toEqual({ reason: "the file no longer exists" });
  });
});
