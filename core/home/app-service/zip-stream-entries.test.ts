import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZipWriter } from "../../archive/zip-writer.js";
import { zipStreamEntries } from "./zip-stream-entries.js";

/** What a reader of the stream sees: each entry with its content's SHA-256, read in turn. */
async function readAll(zip: Buffer, chunkSize = 4096) {
  const seen: Array<{ name: string; kind: string; size: number | undefined; mtime: Date; sha256: string; sizeBefore: number | undefined }> = [];
  for await (const entry of zipStreamEntries(chunked(zip, chunkSize))) {
    const sizeBefore = entry.size;
    const hash = createHash("sha256");
    for await (const chunk of entry.content) hash.update(chunk as Buffer);
    seen.push({ name: entry.name, kind: entry.kind, size: entry.size, mtime: entry.mtime, sha256: hash.digest("hex"), sizeBefore });
  }
  return seen;
}

function chunked(buffer: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < buffer.length; at += size) pieces.push(buffer.subarray(at, at + size));
  return Readable.from(pieces);
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A zip of stored entries with their sizes in the local headers, names written as given. */
function storedZip(entries: Array<{ name: string; data?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data = Buffer.alloc(0) } of entries) {
    const nameBytes = Buffer.from(name, "utf8");
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x0800, 6);
    header.writeUInt32LE(zlib.crc32(data), 14);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(0x0800, 8);
    record.writeUInt32LE(zlib.crc32(data), 16);
    record.writeUInt32LE(data.length, 20);
    record.writeUInt32LE(data.length, 24);
    record.writeUInt16LE(nameBytes.length, 28);
    record.writeUInt32LE(offset, 42);
    central.push(record, nameBytes);
    parts.push(header, nameBytes, data);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

describe("zipStreamEntries", () => {
  let root: string;
  let site: string;
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  const mtime = new Date("2026-03-04T05:06:08Z");

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "zip-stream-entries-"));
    site = path.join(root, "site");
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    await mkdir(path.join(site, "css"), { recursive: true });
    await mkdir(path.join(site, "empty"), { recursive: true });
    await writeFile(path.join(site, "index.html"), "<h1>contoso</h1>\n");
    await writeFile(path.join(site, "css", "site.css"), "body { color: red }\n".repeat(500));
    await writeFile(path.join(site, "big.bin"), big);
    await writeFile(path.join(site, "zero.txt"), "");
    // A zip stored inside the zip: its own signatures must not end the outer entry early.
    await writeFile(path.join(site, "nested.zip"), storedZip([{ name: "a.txt", data: Buffer.from("inner") }]));
    for (const name of ["index.html", "css/site.css", "big.bin", "zero.txt", "nested.zip"]) await utimes(path.join(site, name), mtime, mtime);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function expectSiteContent(seen: Awaited<ReturnType<typeof readAll>>) {
    const byName = new Map(seen.map((entry) => [entry.name, entry]));
    expect([...byName.keys()].sort()).toEqual(expect.arrayContaining(["big.bin", "css/site.css", "index.html", "nested.zip", "zero.txt"]));
    expect(byName.get("index.html")!.sha256).toBe(sha256("<h1>contoso</h1>\n"));
    expect(byName.get("css/site.css")!.sha256).toBe(sha256("body { color: red }\n".repeat(500)));
    expect(byName.get("big.bin")!.sha256).toBe(sha256(big));
    expect(byName.get("big.bin")!.size).toBe(big.length);
    expect(byName.get("zero.txt")!.size).toBe(0);
    expect(byName.get("nested.zip")!.sha256).toBe(sha256(await readFile(path.join(site, "nested.zip"))));
    expect(byName.get("empty")?.kind).toBe("directory");
    for (const name of ["index.html", "big.bin", "css/site.css"]) expect(byName.get(name)!.kind).toBe("file");
  }

  it("reads a zip written by Info-ZIP to a file (sizes in the local headers, times from the UT field)", async () => {
    const zipPath = path.join(root, "file.zip");
    const run = spawnSync("zip", ["-r", "-q", zipPath, "."], { cwd: site });
    expect(run.status).toBe(0);
    const seen = await readAll(await readFile(zipPath));
    await expectSiteContent(seen);
    expect(seen.find((e) => e.name === "index.html")!.sizeBefore).toBe("<h1>contoso</h1>\n".length);
    expect(seen.find((e) => e.name === "index.html")!.mtime.toISOString()).toBe(mtime.toISOString());
  });

  it("reads a zip written by Info-ZIP into a pipe (data descriptors after each entry's data)", async () => {
    const run = spawnSync("sh", ["-c", "zip -r -q - . | cat"], { cwd: site, maxBuffer: 64 * 1024 * 1024 });
    expect(run.status).toBe(0);
    const zip = run.stdout as Buffer;
    expect(zip.readUInt16LE(6) & 0x0008).toBe(0x0008);
    for (const chunkSize of [1, 13, 65536]) {
      if (chunkSize === 1) {
        // One byte at a time on a small zip: every signature and descriptor straddles chunks.
        const small = spawnSync("sh", ["-c", "zip -q - index.html css/site.css zero.txt | cat"], { cwd: site }).stdout as Buffer;
        const seen = await readAll(small, 1);
        expect(seen.map((e) => [e.name, e.sha256])).toEqual([
          ["index.html", sha256("<h1>contoso</h1>\n")],
          ["css/site.css", sha256("body { color: red }\n".repeat(500))],
          ["zero.txt", sha256("")],
        ]);
        continue;
      }
      const seen = await readAll(zip, chunkSize);
      await expectSiteContent(seen);
      expect(seen.find((e) => e.name === "big.bin")!.sizeBefore).toBeUndefined();
    }
  });

  it("reads a zip written by Python into a stream that cannot seek", async () => {
    const script = String.raw`
import sys, zipfile, os
class Pipe:
    def __init__(self, out): self.out = out; self.n = 0
    def write(self, b): self.out.write(b); self.n += len(b); return len(b)
    def tell(self): raise OSError("not seekable")
    def flush(self): self.out.flush()
with zipfile.ZipFile(Pipe(sys.stdout.buffer), "w", zipfile.ZIP_DEFLATED) as z:
    for base, dirs, files in os.walk("."):
        for d in dirs:
            if not os.listdir(os.path.join(base, d)): z.write(os.path.join(base, d))
        for f in files: z.write(os.path.join(base, f))
`;
    const run = spawnSync("python3", ["-c", script], { cwd: site, maxBuffer: 64 * 1024 * 1024 });
    expect(run.stderr.toString()).toBe("");
    await expectSiteContent(await readAll(run.stdout as Buffer, 8191));
  });

  it("reads this project's streamed entries (Zip64 field in the local header, 64-bit sizes in the descriptor)", async () => {
    const parts: Buffer[] = [];
    const zip = new ZipWriter({ write: async (chunk) => void parts.push(Buffer.from(chunk)) }, { workers: 1 });
    await zip.addStream("streamed/big.bin", Readable.from([big.subarray(0, 1000), big.subarray(1000)]), { mtime, mode: 0o644 });
    zip.addDirectory("streamed/empty", { mtime, mode: 0o755 });
    zip.addBuffer("small.txt", Buffer.from("small"), { mtime, mode: 0o644 });
    await zip.finish();
    const seen = await readAll(Buffer.concat(parts), 5000);
    expect(seen.map((e) => [e.name, e.kind, e.size, e.sha256])).toEqual([
      ["streamed/big.bin", "file", big.length, sha256(big)],
      ["streamed/empty", "directory", 0, sha256("")],
      ["small.txt", "file", 5, sha256("small")],
    ]);
    expect(seen[0]!.mtime.toISOString()).toBe(mtime.toISOString());
  });

  it("skips the content a caller does not read and still reaches every entry", async () => {
    const run = spawnSync("sh", ["-c", "zip -r -q - . | cat"], { cwd: site, maxBuffer: 64 * 1024 * 1024 });
    const names: string[] = [];
    for await (const entry of zipStreamEntries(chunked(run.stdout as Buffer, 1000))) {
      names.push(entry.name);
      if (entry.name === "big.bin") {
        // Read a little and stop.
        for await (const chunk of entry.content) {
          expect((chunk as Buffer).length).toBeGreaterThan(0);
          break;
        }
      }
    }
    expect(names.sort()).toEqual(["big.bin", "css", "css/site.css", "empty", "index.html", "nested.zip", "zero.txt"].sort());
  });

  it("reads names written with backslashes (Windows tools) as / paths", async () => {
    const seen = await readAll(storedZip([{ name: "css\\site.css", data: Buffer.from("x") }, { name: "img\\", data: Buffer.alloc(0) }]));
    expect(seen.map((e) => [e.name, e.kind])).toEqual([
      ["css/site.css", "file"],
      ["img", "directory"],
    ]);
  });

  it.each([
    ["../etc/passwd", "has a .. segment"],
    ["site/../../outside.txt", "has a .. segment"],
    ["..\\..\\windows\\win.ini", "has a .. segment"],
    ["/etc/cron.d/job", "is an absolute path"],
    ["\\\\server\\share\\x", "is an absolute path"],
    ["C:/Windows/x.dll", "names a drive"],
  ])("refuses an entry named %j before any of its content is read", async (name, problem) => {
    const zip = storedZip([{ name: "ok.txt", data: Buffer.from("ok") }, { name, data: Buffer.from("evil") }]);
    const names: string[] = [];
    const read = (async () => {
      for await (const entry of zipStreamEntries(chunked(zip, 64))) names.push(entry.name);
    })();
    await expect(read).rejects.toMatchObject({ code: "ARCHIVE_HOSTILE", message: expect.stringContaining(problem) });
    expect(names).toEqual(["ok.txt"]);
  });

  it("fails, saying the zip was cut off, wherever the stream stops", async () => {
    const zip = spawnSync("sh", ["-c", "zip -r -q - index.html css big.bin | cat"], { cwd: site, maxBuffer: 64 * 1024 * 1024 }).stdout as Buffer;
    for (const keep of [2, 20, 200, Math.floor(zip.length / 2), zip.length - 30, zip.length - 1]) {
      const attempt = readAll(zip.subarray(0, keep), 4096);
      await expect(attempt, `cut at ${keep} of ${zip.length}`).rejects.toMatchObject({ code: "HOME_UNREACHABLE", message: expect.stringMatching(/cut off/) });
    }
    await expect(readAll(Buffer.alloc(0))).rejects.toMatchObject({ message: expect.stringMatching(/empty/) });
  });

  it("fails an entry whose bytes do not match its CRC-32", async () => {
    const zip = storedZip([{ name: "a.txt", data: Buffer.from("hello world") }]);
    zip[30 + "a.txt".length + 2] ^= 0xff;
    await expect(readAll(zip)).rejects.toMatchObject({ message: expect.stringMatching(/"a\.txt" does not match its CRC-32/) });
  });

  it("reads an empty zip as no entries", async () => {
    expect(await readAll(storedZip([]))).toEqual([]);
  });
});
