import { closeSync, ftruncateSync, openSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fileSink } from "../../core/archive/file-sink.js";
import { ZipWriter } from "../../core/archive/zip-writer.js";
import { openZipFile } from "../../core/archive/zip-reader.js";
import { pythonInspect, sparseFileSink, tempFolder, unzipTest } from "../support/zip-tools.js";

const temp = tempFolder("zip64");
afterAll(() => temp.remove());

const GiB = 1024 * 1024 * 1024;
const mtime = new Date("2024-03-04T05:06:07Z");

describe("Zip64", () => {
  it("writes more than 65,535 entries readable by unzip, Python and our reader", async () => {
    const zipPath = path.join(temp.path, "many.zip");
    const sink = await fileSink(zipPath);
    const zip = new ZipWriter(sink);
    const count = 70_000;
    for (let i = 0; i < count; i++) {
      if (i % 1000 === 0) zip.addDirectory(`d${i / 1000}`, { mtime, mode: 0o755 });
      zip.addBuffer(`d${Math.floor(i / 1000)}/f${i}.txt`, Buffer.from(`entry ${i}\n`), { mtime, mode: 0o644 });
    }
    const result = await zip.finish();
    await sink.close();
    expect(result.entries).toHaveLength(count + 70);

    expect(unzipTest(zipPath).ok).toBe(true);
    const python = pythonInspect(zipPath);
    expect(python.testzip).toBeNull();
    expect(python.entries).toHaveLength(count + 70);
    expect(python.entries.at(-1)!.name).toBe("d69/f69999.txt");

    const reader = await openZipFile(zipPath);
    try {
      expect(reader.entries).toHaveLength(count + 70);
      const last = reader.entries.at(-1)!;
      expect((await reader.readEntry(last)).toString()).toBe("entry 69999\n");
    } finally {
      await reader.close();
    }
  });

  it("streams an entry larger than 4 GiB of unknown length (a dump), followed by another entry", async () => {
    const zipPath = path.join(temp.path, "huge-stream.zip");
    const sink = await fileSink(zipPath);
    const zip = new ZipWriter(sink);
    const size = 4 * GiB + 1024 * 1024 + 7;
    const block = Buffer.alloc(4 * 1024 * 1024);
    async function* zeros() {
      for (let left = size; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
    }
    const streamed = await zip.addStream("zeros.sql", zeros(), { mtime, mode: 0o644 });
    zip.addBuffer("after.txt", Buffer.from("after the big one\n"), { mtime, mode: 0o644 });
    await zip.finish();
    await sink.close();
    expect(streamed.size).toBe(size);
    expect(streamed.method).toBe("deflate");
    // Zeros deflate ~1000:1: the archive itself stays small.
    expect(statSync(zipPath).size).toBeLessThan(50 * 1024 * 1024);

    expect(unzipTest(zipPath).ok).toBe(true);
    const python = pythonInspect(zipPath);
    expect(python.testzip).toBeNull();
    expect(python.entries.map((e) => [e.name, e.size])).toEqual([
      ["zeros.sql", size],
      ["after.txt", 18],
    ]);

    const reader = await openZipFile(zipPath);
    try {
      expect(reader.entries[0]!.size).toBe(size);
      expect((await reader.readEntry(reader.entries[1]!)).toString()).toBe("after the big one\n");
    } finally {
      await reader.close();
    }
  }, 900_000);

  it("writes an archive larger than 4 GiB with a stored entry larger than 4 GiB and offsets past 4 GiB", async () => {
    // A sparse 4 GiB + 3 MiB file, stored because of its name, and a sparse-writing sink:
    // a real multi-GiB archive without using GiBs of disk.
    const bigPath = path.join(temp.path, "big.zip");
    const size = 4 * GiB + 3 * 1024 * 1024;
    const fd = openSync(bigPath, "w");
    ftruncateSync(fd, size);
    writeSync(fd, Buffer.from("marker at the end"), 0, 17, size - 17);
    closeSync(fd);

    const zipPath = path.join(temp.path, "huge.zip");
    const sink = await sparseFileSink(zipPath);
    const zip = new ZipWriter(sink);
    zip.addBuffer("first.txt", Buffer.from("first\n"), { mtime, mode: 0o644 });
    zip.addFile("big.zip", bigPath, { size, mtime, mode: 0o644 });
    zip.addBuffer("after.txt", Buffer.from("after\n"), { mtime, mode: 0o644 });
    zip.addDirectory("last-folder", { mtime, mode: 0o755 });
    const result = await zip.finish();
    await sink.close();
    expect([...result.entries].map((e) => [e.name, e.method, e.size])).toEqual([
      ["first.txt", "store", 6],
      ["big.zip", "store", size],
      ["after.txt", "store", 6],
      ["last-folder/", "store", 0],
    ]);
    expect(result.bytesWritten).toBeGreaterThan(4 * GiB);
    expect(statSync(zipPath).size).toBe(result.bytesWritten);

    expect(unzipTest(zipPath).ok).toBe(true);
    const python = pythonInspect(zipPath);
    expect(python.testzip).toBeNull();
    expect(python.entries.map((e) => [e.name, e.size])).toEqual([
      ["first.txt", 6],
      ["big.zip", size],
      ["after.txt", 6],
      ["last-folder/", 0],
    ]);

    const reader = await openZipFile(zipPath);
    try {
      const after = reader.entries[2]!;
      expect(after.localHeaderOffset).toBeGreaterThan(4 * GiB);
      expect((await reader.readEntry(after)).toString()).toBe("after\n");
      const range = await reader.dataRange(reader.entries[1]!);
      expect(range.length).toBe(size);
    } finally {
      await reader.close();
    }
  }, 900_000);
});
