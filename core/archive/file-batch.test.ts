import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { FASTEST_LEVEL_LIMIT } from "./compression-policy.js";
import { libdeflateBindingFile } from "./deflate-engine.js";
import { deflateFileBatch, readSmallFile } from "./file-batch.js";
import { libdeflateRaw, loadLibdeflate } from "./libdeflate-binding.js";

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

describe("deflateFileBatch", () => {
  it("deflates a file of a few KB at libdeflate's level 1, and a larger one at the archive's level", () => {
    const file = libdeflateBindingFile();
    if (file === undefined) throw new Error("dist/native/libdeflate.node was not built: run scripts/setup-tests.sh, then npm run build.");
    const libdeflate = loadLibdeflate(file);
    if (typeof libdeflate === "string") throw new Error(libdeflate);
    const words = Array.from({ length: 4000 }, (_, i) => `word${(i * 7919) % 613} `).join("");
    const contents = [Buffer.from(words.slice(0, FASTEST_LEVEL_LIMIT)), Buffer.from(words.slice(0, FASTEST_LEVEL_LIMIT + 4000))];
    const paths = contents.map((content, i) => {
      const at = path.join(folder, `batch-${i}.txt`);
      writeFileSync(at, content);
      return at;
    });
    const target = new Uint8Array(64 * 1024);
    const { message } = deflateFileBatch({ id: 1, paths: paths.join("\0"), store: "00", sizes: new Float64Array(contents.map((c) => c.length)), level: 4 }, target, 0.02, undefined, libdeflate);
    let at = 0;
    const stored = contents.map((content, i) => {
      expect(message.meta[i * 4], "size").toBe(content.length);
      expect(message.meta[i * 4 + 2], "method").toBe(8);
      const length = message.meta[i * 4 + 3]!;
      const data = Buffer.from(target.subarray(at, at + length));
      at += length;
      expect(inflateRawSync(data).equals(content)).toBe(true);
      return data;
    });
    expect(stored[0]!.equals(libdeflateRaw(libdeflate, contents[0]!, 1))).toBe(true);
    expect(stored[1]!.equals(libdeflateRaw(libdeflate, contents[1]!, 4))).toBe(true);
    // Level 1 is a different compressor: the small file's data is not what level 4 makes of it.
    expect(stored[0]!.equals(libdeflateRaw(libdeflate, contents[0]!, 4))).toBe(false);
  });
});
