import { createHash, randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fileSink } from "../../core/archive/file-sink.js";
import { ArchiveAbortedError, SizeLimitExceededError, ZipWriter, type ZipWriterOptions } from "../../core/archive/zip-writer.js";
import { archiveWorkersStarted } from "../../core/archive/worker-pool.js";
import { contentsOf, pythonInspect, tempFolder, unzipTest } from "../support/zip-tools.js";

const temp = tempFolder("zip-writer");
afterAll(() => temp.remove());

const mtime = new Date("2024-02-03T04:05:06Z");
let counter = 0;

function writeFile(name: string, content: Buffer | string): { path: string; size: number } {
  const file = path.join(temp.path, "files", name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return { path: file, size: statSync(file).size };
}

/** Builds an archive in a fresh file and returns it with what the writer reported. */
async function archive(build: (zip: ZipWriter) => void | Promise<void>, options: ZipWriterOptions = {}) {
  const zipPath = path.join(temp.path, `archive-${++counter}.zip`);
  const sink = await fileSink(zipPath);
  const zip = new ZipWriter(sink, options);
  try {
    await build(zip);
    const result = await zip.finish();
    return { zipPath, ...result };
  } finally {
    await sink.close();
  }
}

describe("files that cannot be read when their turn comes", () => {
  it("leaves out a file deleted after it was listed, reports it, and still writes a valid archive", async () => {
    const kept = writeFile("vanish/kept.txt", "kept\n");
    const gone = writeFile("vanish/gone.txt", "about to vanish\n");
    const result = await archive((zip) => {
      zip.addFile("kept.txt", kept.path, { size: kept.size, mtime, mode: 0o644 });
      zip.addFile("gone.txt", gone.path, { size: gone.size, mtime, mode: 0o644 });
      // Files are read later by a worker: deleting it now is a file vanishing between walk and read.
      unlinkSync(gone.path);
    });
    expect(result.skipped).toEqual([{ name: "gone.txt", reason: "the file no longer exists" }]);
    expect([...result.entries].map((e) => e.name)).toEqual(["kept.txt"]);
    expect(unzipTest(result.zipPath).ok).toBe(true);
    expect(pythonInspect(result.zipPath).entries.map((e) => e.name)).toEqual(["kept.txt"]);
  });

  it("does not block on a FIFO that replaced a file, and leaves it out", async () => {
    const fifo = path.join(temp.path, "files", "pipe.txt");
    mkdirSync(path.dirname(fifo), { recursive: true });
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const folder = path.join(temp.path, "files", "now-a-folder");
    mkdirSync(folder, { recursive: true });
    const result = await archive((zip) => {
      zip.addFile("pipe.txt", fifo, { size: 10, mtime, mode: 0o644 });
      zip.addFile("now-a-folder", folder, { size: 10, mtime, mode: 0o644 });
      zip.addBuffer("after.txt", Buffer.from("after"), { mtime, mode: 0o644 });
    });
    expect(result.skipped).toEqual([
      { name: "pipe.txt", reason: "it is no longer a regular file" },
      { name: "now-a-folder", reason: "it is no longer a regular file" },
    ]);
    expect([...result.entries].map((e) => e.name)).toEqual(["after.txt"]);
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });

  it("leaves out an unreadable large file the same way", async () => {
    const big = writeFile("vanish/big.bin", randomBytes(5 * 1024 * 1024));
    const result = await archive((zip) => {
      zip.addFile("big.bin", big.path, { size: big.size, mtime, mode: 0o644 });
      unlinkSync(big.path);
      zip.addBuffer("after.txt", Buffer.from("after"), { mtime, mode: 0o644 });
    });
    expect(result.skipped.map((s) => s.name)).toEqual(["big.bin"]);
    expect([...result.entries].map((e) => e.name)).toEqual(["after.txt"]);
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });
});

describe("files that changed size since they were listed", () => {
  it("archives what is read, small or large", async () => {
    const small = writeFile("changed/small.txt", "now longer than when it was listed\n");
    const large = writeFile("changed/large.log", "x".repeat(6 * 1024 * 1024));
    const result = await archive((zip) => {
      zip.addFile("small.txt", small.path, { size: 3, mtime, mode: 0o644 });
      zip.addFile("large.log", large.path, { size: 9 * 1024 * 1024, mtime, mode: 0o644 });
    });
    expect([...result.entries].map((e) => e.size)).toEqual([small.size, large.size]);
    const contents = await contentsOf(result.zipPath);
    expect(contents.get("small.txt")!.toString()).toBe("now longer than when it was listed\n");
    expect(contents.get("large.log")!.length).toBe(6 * 1024 * 1024);
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });

  it("archives small files that grew past the room their batch was given", async () => {
    // Incompressible, so the batch's output really is larger than the room for it.
    const photos = [0, 1, 2].map(() => randomBytes(700_000));
    const grown = photos.map((content, i) => writeFile(`changed/grown-${i}.png`, content));
    const text = writeFile("changed/grown.txt", "grown text\n".repeat(80_000));
    const result = await archive((zip) => {
      grown.forEach((file, i) => zip.addFile(`grown-${i}.png`, file.path, { size: 10, mtime, mode: 0o644 }));
      zip.addFile("grown.txt", text.path, { size: 10, mtime, mode: 0o644 });
    });
    expect([...result.entries].map((e) => e.size)).toEqual([700_000, 700_000, 700_000, 880_000]);
    const contents = await contentsOf(result.zipPath);
    expect(contents.get("grown-2.png")!.equals(photos[2]!)).toBe(true);
    expect(contents.get("grown.txt")!.toString()).toBe("grown text\n".repeat(80_000));
    expect(pythonInspect(result.zipPath).testzip).toBeNull();
  });
});

describe("stored or deflated", () => {
  it("stores already-compressed types and incompressible data, deflates the rest, small and large", async () => {
    const compressibleJpeg = writeFile("kinds/photo.jpg", "not really a jpeg, very compressible ".repeat(1000));
    const randomSmall = writeFile("kinds/blob.dat", randomBytes(100_000));
    const textSmall = writeFile("kinds/blob.txt", "compressible text\n".repeat(5000));
    const randomLarge = writeFile("kinds/large.bin", randomBytes(9 * 1024 * 1024 + 123));
    const textLarge = writeFile("kinds/large.txt", Buffer.from("a large compressible text file\n".repeat(400_000)));
    const result = await archive((zip) => {
      for (const [name, file] of Object.entries({ "photo.jpg": compressibleJpeg, "blob.dat": randomSmall, "blob.txt": textSmall, "large.bin": randomLarge, "large.txt": textLarge })) {
        zip.addFile(name, file.path, { size: file.size, mtime, mode: 0o644 });
      }
      zip.addBuffer("noise.bin", randomBytes(200_000), { mtime, mode: 0o644 });
      zip.addBuffer("notes.txt", Buffer.from("note\n".repeat(1000)), { mtime, mode: 0o644 });
    });
    const methods = Object.fromEntries([...result.entries].map((e) => [e.name, e.method]));
    expect(methods).toEqual({
      "photo.jpg": "store",
      "blob.dat": "store",
      "blob.txt": "deflate",
      "large.bin": "store",
      "large.txt": "deflate",
      "noise.bin": "store",
      "notes.txt": "deflate",
    });
    const python = pythonInspect(result.zipPath);
    expect(python.testzip).toBeNull();
    expect(python.entries.map((e) => e.method)).toEqual([0, 0, 8, 0, 8, 0, 8]);
    const large = [...result.entries].find((e) => e.name === "large.txt")!;
    expect(large.compressedSize).toBeLessThan(large.size / 20);
    expect(unzipTest(result.zipPath).ok).toBe(true);
    expect((await contentsOf(result.zipPath)).get("large.txt")!.equals(Buffer.from("a large compressible text file\n".repeat(400_000)))).toBe(true);
  });

  it("stores everything at level 0", async () => {
    const text = writeFile("level0/a.txt", "text ".repeat(10_000));
    const result = await archive((zip) => zip.addFile("a.txt", text.path, { size: text.size, mtime, mode: 0o644 }), { level: 0 });
    expect([...result.entries][0]!.method).toBe("store");
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });
});

describe("size limit", () => {
  it("fails as soon as the listed sizes pass the limit, with the figures", async () => {
    const file = writeFile("limit/a.txt", "x".repeat(600));
    const zipPath = path.join(temp.path, "limit.zip");
    const sink = await fileSink(zipPath);
    const zip = new ZipWriter(sink, { maxBytesIn: 1000 });
    zip.addFile("a.txt", file.path, { size: 600, mtime, mode: 0o644 });
    let thrown: unknown;
    try {
      zip.addFile("b.txt", file.path, { size: 600, mtime, mode: 0o644 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SizeLimitExceededError);
    expect((thrown as SizeLimitExceededError).limitBytes).toBe(1000);
    expect((thrown as SizeLimitExceededError).seenBytes).toBe(1200);
    await expect(zip.finish()).rejects.toBeInstanceOf(SizeLimitExceededError);
    await sink.close();
  });

  it("fails a stream that grows past the limit, rejecting both the stream and finish()", async () => {
    const zipPath = path.join(temp.path, "limit-stream.zip");
    const sink = await fileSink(zipPath);
    const zip = new ZipWriter(sink, { maxBytesIn: 100_000 });
    zip.addBuffer("meta", Buffer.alloc(50_000, 1), { mtime, mode: 0o644 });
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(10_000, 2));
    const dump = zip.addStream("db.sql", Readable.from(chunks), { mtime, mode: 0o644 });
    await expect(dump).rejects.toMatchObject({ name: "SizeLimitExceededError", limitBytes: 100_000 });
    const error = await zip.finish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeLimitExceededError);
    expect((error as SizeLimitExceededError).seenBytes).toBeGreaterThan(100_000);
    await sink.close();
  });
});

describe("directories, names and order", () => {
  it("writes empty directory entries with a trailing slash", async () => {
    const result = await archive((zip) => {
      zip.addDirectory("empty", { mtime, mode: 0o750 });
      zip.addDirectory("also/empty/", { mtime, mode: 0o755 });
    });
    const python = pythonInspect(result.zipPath);
    expect(python.entries.map((e) => [e.name, e.isDir, e.mode])).toEqual([
      ["empty/", true, 0o040750],
      ["also/empty/", true, 0o040755],
    ]);
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });

  it("rejects names that could escape the extraction folder", async () => {
    const sink = await fileSink(path.join(temp.path, "names.zip"));
    const zip = new ZipWriter(sink);
    expect(() => zip.addBuffer("../evil", Buffer.from("x"), { mtime, mode: 0o644 })).toThrow(/\.\. segment/);
    expect(() => zip.addBuffer("/etc/passwd", Buffer.from("x"), { mtime, mode: 0o644 })).toThrow(/relative/);
    expect(() => zip.addBuffer("a//b", Buffer.from("x"), { mtime, mode: 0o644 })).toThrow(/empty path segment/);
    expect(() => zip.addBuffer("dir/", Buffer.from("x"), { mtime, mode: 0o644 })).toThrow(/only directory names/);
    await zip.finish();
    await sink.close();
  });

  it("handles files added after the entries before them were already written", async () => {
    const file = writeFile("later/a.txt", "later\n");
    const result = await archive(async (zip) => {
      zip.addDirectory("first", { mtime, mode: 0o755 });
      zip.addBuffer("first/meta", Buffer.from("meta"), { mtime, mode: 0o644 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      zip.addFile("first/a.txt", file.path, { size: file.size, mtime, mode: 0o644 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      zip.addDirectory("second", { mtime, mode: 0o755 });
      zip.addFile("second/a.txt", file.path, { size: file.size, mtime, mode: 0o644 });
    });
    expect([...result.entries].map((e) => e.name)).toEqual(["first/", "first/meta", "first/a.txt", "second/", "second/a.txt"]);
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });

  it("keeps the order of thousands of mixed entries across worker batches", async () => {
    const expected: string[] = [];
    const result = await archive((zip) => {
      for (let d = 0; d < 40; d++) {
        zip.addDirectory(`d${d}`, { mtime, mode: 0o755 });
        expected.push(`d${d}/`);
        for (let f = 0; f < 60; f++) {
          const name = `d${d}/f${f}.txt`;
          const file = writeFile(`order/${name}`, `${name}\n`.repeat(f + 1));
          zip.addFile(name, file.path, { size: file.size, mtime, mode: 0o644 });
          expected.push(name);
          if (f % 25 === 0) {
            zip.addSymlink(`d${d}/link${f}`, `f${f}.txt`, { mtime, mode: 0o777 });
            expected.push(`d${d}/link${f}`);
          }
        }
      }
    });
    expect([...result.entries].map((e) => e.name)).toEqual(expected);
    const contents = await contentsOf(result.zipPath);
    expect(contents.get("d7/f9.txt")!.toString()).toBe("d7/f9.txt\n".repeat(10));
    expect(pythonInspect(result.zipPath).testzip).toBeNull();
  });
});

describe("bytes handed over (a remote home's files)", () => {
  it("deflates thousands of them on the workers, in order, with their content and checksums", async () => {
    const before = archiveWorkersStarted();
    const given = new Map<string, Buffer>();
    const handed: Buffer[] = [];
    const result = await archive((zip) => {
      for (let f = 0; f < 3000; f++) {
        const name = f % 97 === 0 ? `remote/p${f}.png` : f % 89 === 0 ? `remote/r${f}.bin` : `remote/t${f}.txt`;
        const data = name.endsWith(".txt") ? Buffer.from(`line ${f} of a remote text file\n`.repeat(1 + (f % 120))) : randomBytes(1 + (f % 3000));
        given.set(name, Buffer.from(data));
        handed.push(data);
        zip.addBuffer(name, data, { mtime, mode: 0o644 });
        if (f % 500 === 0) zip.addDirectory(`remote/d${f}`, { mtime, mode: 0o755 });
      }
    });
    // Past what the main thread deflates alone, the bytes went to workers.
    expect(archiveWorkersStarted()).toBeGreaterThan(before);
    const entries = [...result.entries].filter((e) => !e.name.endsWith("/"));
    expect(entries.map((e) => e.name)).toEqual([...given.keys()]);
    const contents = await contentsOf(result.zipPath);
    for (const entry of entries) {
      const data = given.get(entry.name)!;
      expect(contents.get(entry.name)!.equals(data)).toBe(true);
      expect(entry.sha256).toBe(createHash("sha256").update(data).digest("hex"));
      if (entry.name.endsWith(".png")) expect(entry.method).toBe("store");
      if (entry.name.endsWith(".txt") && data.length > 200) expect(entry.method).toBe("deflate");
    }
    expect(pythonInspect(result.zipPath).testzip).toBeNull();
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });

  it("keeps a few of them on the main thread: no worker starts for a settings document", async () => {
    const before = archiveWorkersStarted();
    const result = await archive((zip) => {
      zip.addBuffer("meta/settings.json", Buffer.from(JSON.stringify({ a: "b".repeat(500) })), { mtime, mode: 0o600 });
      zip.addBuffer("meta/notes.txt", Buffer.from("note\n".repeat(100)), { mtime, mode: 0o644 });
    });
    expect(archiveWorkersStarted()).toBe(before);
    const contents = await contentsOf(result.zipPath);
    expect(contents.get("meta/notes.txt")!.toString()).toBe("note\n".repeat(100));
    expect([...result.entries].map((e) => e.method)).toEqual(["deflate", "deflate"]);
  });

  it("stores them at level 0, batched or not", async () => {
    const result = await archive(
      (zip) => {
        for (let f = 0; f < 600; f++) zip.addBuffer(`l0/t${f}.txt`, Buffer.from("text ".repeat(2000)), { mtime, mode: 0o644 });
      },
      { level: 0 },
    );
    expect(new Set([...result.entries].map((e) => e.method))).toEqual(new Set(["store"]));
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });
});

describe("streams", () => {
  it("rejects the entry and the archive when the source fails midway", async () => {
    const sink = await fileSink(path.join(temp.path, "broken-stream.zip"));
    const zip = new ZipWriter(sink);
    async function* failing() {
      yield Buffer.from("first rows\n");
      throw new Error("connection to the database was lost");
    }
    const entry = zip.addStream("db.sql", failing(), { mtime, mode: 0o644 });
    await expect(entry).rejects.toThrow("connection to the database was lost");
    await expect(zip.finish()).rejects.toThrow("connection to the database was lost");
    await sink.close();
  });

  it("archives several streams and files interleaved, in order", async () => {
    const file = writeFile("streams/page.html", "<p>page</p>\n".repeat(100));
    const result = await archive(async (zip) => {
      const first = zip.addStream("one.sql", Readable.from(["a\n".repeat(1000)]), { mtime, mode: 0o644 });
      zip.addFile("page.html", file.path, { size: file.size, mtime, mode: 0o644 });
      const second = zip.addStream("two.sql", Readable.from([Buffer.alloc(3 * 1024 * 1024, "b")]), { mtime, mode: 0o644 });
      expect((await first).size).toBe(2000);
      expect((await second).size).toBe(3 * 1024 * 1024);
    });
    expect([...result.entries].map((e) => e.name)).toEqual(["one.sql", "page.html", "two.sql"]);
    expect(unzipTest(result.zipPath).ok).toBe(true);
  });
});

describe("failures and progress", () => {
  it("fails the archive and every pending stream when the sink fails", async () => {
    const sink = {
      async write() {
        throw new Error("disk full");
      },
    };
    const zip = new ZipWriter(sink);
    // Stored, so the output passes the size of one sink write while this file is written.
    const big = writeFile("sink/big.png", randomBytes(3 * 1024 * 1024));
    zip.addFile("big.png", big.path, { size: big.size, mtime, mode: 0o644 });
    const dump = zip.addStream("db.sql", Readable.from(["rows\n".repeat(500_000)]), { mtime, mode: 0o644 });
    const later = zip.addStream("later.sql", Readable.from(["more\n"]), { mtime, mode: 0o644 });
    await expect(zip.finish()).rejects.toThrow("disk full");
    await expect(dump).rejects.toThrow("disk full");
    await expect(later).rejects.toThrow("disk full");
  });

  it("reports progress, ending with the totals", async () => {
    const file = writeFile("progress/a.txt", "progress ".repeat(100_000));
    const reports: Array<{ files: number; bytesIn: number; bytesOut: number }> = [];
    const result = await archive(
      (zip) => {
        zip.addFile("a.txt", file.path, { size: file.size, mtime, mode: 0o644 });
        zip.addBuffer("b.txt", Buffer.from("b"), { mtime, mode: 0o644 });
      },
      { onProgress: (p) => reports.push(p) },
    );
    expect(reports.at(-1)).toEqual({ files: 1, bytesIn: file.size + 1, bytesOut: result.bytesWritten });
  });

  it("returns a rejected promise, not a throw, from addStream on a failed archive", async () => {
    const sink = await fileSink(path.join(temp.path, "rejected-stream.zip"));
    const zip = new ZipWriter(sink, { maxBytesIn: 10 });
    expect(() => zip.addBuffer("big", Buffer.alloc(100), { mtime, mode: 0o644 })).toThrow(SizeLimitExceededError);
    await expect(zip.addStream("db.sql", Readable.from(["x"]), { mtime, mode: 0o644 })).rejects.toBeInstanceOf(SizeLimitExceededError);
    await expect(zip.finish()).rejects.toBeInstanceOf(SizeLimitExceededError);
    await sink.close();
  });
});

describe("stopping", () => {
  it("abort() makes finish() fail with ArchiveAbortedError", async () => {
    const file = writeFile("abort/a.txt", "a".repeat(10_000));
    const sink = await fileSink(path.join(temp.path, "aborted.zip"));
    const zip = new ZipWriter(sink);
    for (let i = 0; i < 500; i++) zip.addFile(`a${i}.txt`, file.path, { size: file.size, mtime, mode: 0o644 });
    await zip.abort();
    await expect(zip.finish()).rejects.toBeInstanceOf(ArchiveAbortedError);
    expect(() => zip.addBuffer("late", Buffer.from("x"), { mtime, mode: 0o644 })).toThrow(ArchiveAbortedError);
    await sink.close();
  });

  it("an aborted signal stops the archive", async () => {
    const controller = new AbortController();
    const sink = await fileSink(path.join(temp.path, "signalled.zip"));
    const zip = new ZipWriter(sink, { signal: controller.signal });
    const entry = zip.addStream("slow.sql", (async function* () {
      yield Buffer.from("begin\n");
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      yield Buffer.from("never written\n");
    })(), { mtime, mode: 0o644 });
    await expect(entry).rejects.toBeInstanceOf(ArchiveAbortedError);
    await expect(zip.finish()).rejects.toBeInstanceOf(ArchiveAbortedError);
    await sink.close();
  });

  it("never keeps the process alive: after finish, after abort, after a failure", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const file = writeFile("alive/a.txt", "a".repeat(100_000));
    const big = writeFile("alive/big.log", "b".repeat(8 * 1024 * 1024));
    for (const ending of ["finish", "abort", "fail"]) {
      const run = spawnSync(process.execPath, [path.join(here, "../support/zip-exit-check.mjs"), ending, file.path, big.path, path.join(temp.path, `exit-${ending}.zip`)], {
        encoding: "utf8",
        timeout: 60_000,
        cwd: path.resolve(here, "../.."),
      });
      expect({ ending, signal: run.signal, status: run.status, stderr: run.stderr }).toEqual({ ending, signal: null, status: 0, stderr: "" });
      expect(run.stdout.trim()).toBe(`${ending}: done`);
    }
  });
});
