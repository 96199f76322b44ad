import { createHash, randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileSink } from "../../core/archive/file-sink.js";
import type { ArchiveEntry } from "../../core/archive/types.js";
import { ZipWriter } from "../../core/archive/zip-writer.js";
import { openZipFile } from "../../core/archive/zip-reader.js";
import { pythonInspect, tempFolder, unzipTest, zipinfo, type PythonEntry } from "../support/zip-tools.js";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/**
 * One archive with every kind of entry, checked by Info-ZIP unzip, Python's
 * zipfile and our own reader: what a user restoring with any tool would see.
 */
describe("zip writer output read by independent tools", () => {
  const temp = tempFolder("zip-interop");
  const source = path.join(temp.path, "site");
  const zipPath = path.join(temp.path, "site.zip");
  const mtime = new Date("2023-07-14T09:26:53Z");
  const oldTime = new Date("1975-01-02T03:04:05Z");
  const text = "const answer = 42;\n".repeat(4000);
  const random = randomBytes(300_000);
  const largeText = Buffer.from("line of a large log file with some variety 0123456789\n".repeat(120_000));
  const dump = "INSERT INTO t VALUES (1, 'a');\n".repeat(20_000);
  let result: { entries: ArchiveEntry[]; skipped: unknown[]; bytesWritten: number };
  let python: { testzip: string | null; entries: PythonEntry[] };
  let pythonByName: Map<string, PythonEntry>;

  const files: Array<{ name: string; content: Buffer; mode: number }> = [
    { name: "index.html", content: Buffer.from(text), mode: 0o644 },
    { name: "bin/run.sh", content: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
    { name: "empty.txt", content: Buffer.alloc(0), mode: 0o600 },
    { name: "media/photo.png", content: random, mode: 0o644 },
    { name: "data/noise.bin", content: random.subarray(0, 200_000), mode: 0o640 },
    { name: "logs/big.log", content: largeText, mode: 0o644 },
    { name: "naïve/über café.txt", content: Buffer.from("unicode name\n"), mode: 0o644 },
  ];

  beforeAll(async () => {
    for (const file of files) {
      const absolute = path.join(source, file.name);
      mkdirSync(path.dirname(absolute), { recursive: true });
      writeFileSync(absolute, file.content, { mode: file.mode });
      utimesSync(absolute, mtime, mtime);
    }
    mkdirSync(path.join(source, "uploads/empty"), { recursive: true });
    symlinkSync("../index.html", path.join(source, "media/home.html"));
    symlinkSync("../bin", path.join(source, "media/tools"));
    utimesSync(path.join(source, "empty.txt"), oldTime, oldTime);

    const sink = await fileSink(zipPath);
    const zip = new ZipWriter(sink);
    zip.addBuffer("meta", Buffer.from("<meta/>"), { mtime, mode: 0o644 });
    const dumpEntry = zip.addStream("MainDb.sql", Readable.from([dump.slice(0, 1000), Buffer.from(dump.slice(1000))]), { mtime, mode: 0o644 });
    zip.addDirectory("fs/", { mtime, mode: 0o755 });
    for (const name of ["bin", "data", "logs", "media", "naïve", "uploads", "uploads/empty"]) {
      zip.addDirectory(`fs/${name}`, { mtime, mode: statSync(path.join(source, name)).mode });
    }
    for (const file of files) {
      const stats = statSync(path.join(source, file.name));
      zip.addFile(`fs/${file.name}`, path.join(source, file.name), stats);
    }
    for (const link of ["media/home.html", "media/tools"]) {
      const stats = lstatSync(path.join(source, link));
      zip.addSymlink(`fs/${link}`, readlinkSync(path.join(source, link)), { mtime, mode: stats.mode });
    }
    const finished = await zip.finish();
    result = { ...finished, entries: [...finished.entries] };
    await sink.close();
    expect((await dumpEntry).size).toBe(Buffer.byteLength(dump));
    python = pythonInspect(zipPath);
    pythonByName = new Map(python.entries.map((e) => [e.name, e]));
  });

  afterAll(() => temp.remove());

  it("passes unzip -t", () => {
    const check = unzipTest(zipPath);
    expect(check.output).toContain("No errors detected");
    expect(check.ok).toBe(true);
  });

  it("passes Python's testzip and lists the entries in the order they were added", () => {
    expect(python.testzip).toBeNull();
    expect(python.entries.map((e) => e.name)).toEqual(result.entries.map((e) => e.name));
    expect(python.entries[0]!.name).toBe("meta");
    expect(python.entries[1]!.name).toBe("MainDb.sql");
    expect(result.skipped).toEqual([]);
  });

  it("keeps Unix modes, seen by zipinfo and Python", () => {
    const info = zipinfo(zipPath);
    expect(info.get("fs/bin/run.sh")?.permissions).toBe("-rwxr-xr-x");
    expect(info.get("fs/empty.txt")?.permissions).toBe("-rw-------");
    expect(info.get("fs/data/noise.bin")?.permissions).toBe("-rw-r-----");
    expect(info.get("fs/uploads/empty/")?.permissions).toMatch(/^d/);
    expect(info.get("fs/index.html")?.host).toBe("unx");
    expect(pythonByName.get("fs/bin/run.sh")!.mode).toBe(0o100755);
    expect(pythonByName.get("fs/uploads/empty/")!.isDir).toBe(true);
    expect(pythonByName.get("fs/uploads/empty/")!.mode & 0o170000).toBe(0o040000);
  });

  it("stores symlinks as links with their target as content", () => {
    const info = zipinfo(zipPath);
    expect(info.get("fs/media/home.html")?.permissions).toMatch(/^l/);
    expect(info.get("fs/media/tools")?.permissions).toMatch(/^l/);
    expect(pythonByName.get("fs/media/home.html")!.mode & 0o170000).toBe(0o120000);
    expect(pythonByName.get("fs/media/home.html")!.linkTarget).toBe("../index.html");
    expect(pythonByName.get("fs/media/tools")!.linkTarget).toBe("../bin");
  });

  it("records sizes, and the exact modification second in the extended-timestamp field", () => {
    for (const file of files) {
      const entry = pythonByName.get(`fs/${file.name}`)!;
      expect(entry.size).toBe(file.content.length);
      expect(entry.utMtime).toBe((file.name === "empty.txt" ? oldTime : mtime).getTime() / 1000);
    }
  });

  it("deflates text and stores media and incompressible data", () => {
    const method = (name: string) => pythonByName.get(name)!.method;
    expect(method("fs/index.html")).toBe(8);
    expect(method("fs/logs/big.log")).toBe(8);
    expect(method("MainDb.sql")).toBe(8);
    expect(method("fs/media/photo.png")).toBe(0);
    expect(method("fs/data/noise.bin")).toBe(0);
    expect(method("fs/empty.txt")).toBe(0);
    expect(pythonByName.get("fs/logs/big.log")!.compressSize).toBeLessThan(largeText.length / 5);
  });

  it("extracts with unzip to the same contents, modes, links and mtimes", () => {
    const out = path.join(temp.path, "unzipped");
    const run = spawnSync("unzip", ["-q", zipPath, "-d", out], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    for (const file of files) {
      const extracted = path.join(out, "fs", file.name);
      expect(readFileSync(extracted).equals(file.content)).toBe(true);
      expect(statSync(extracted).mode & 0o777).toBe(file.mode);
    }
    expect(statSync(path.join(out, "fs/index.html")).mtime.getTime()).toBe(mtime.getTime());
    expect(lstatSync(path.join(out, "fs/media/home.html")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(out, "fs/media/tools"))).toBe("../bin");
    expect(statSync(path.join(out, "fs/uploads/empty")).isDirectory()).toBe(true);
    expect(readFileSync(path.join(out, "MainDb.sql"), "utf8")).toBe(dump);
  });

  it("reads back through our own reader with matching sizes, CRCs, SHA-256 and metadata", async () => {
    const archive = await openZipFile(zipPath);
    try {
      expect(archive.entries.map((e) => e.name)).toEqual(result.entries.map((e) => e.name));
      const byName = new Map(archive.entries.map((e) => [e.name, e]));
      for (const written of result.entries) {
        const read = byName.get(written.name)!;
        expect(read.kind).toBe(written.kind);
        expect(read.size).toBe(written.size);
        expect(read.crc32).toBe(written.crc32);
        expect(read.mode).toBe(written.mode);
        const content = await archive.readEntry(read);
        expect(sha256(content)).toBe(written.sha256);
      }
      for (const file of files) {
        const entry = byName.get(`fs/${file.name}`)!;
        expect((await archive.readEntry(entry)).equals(file.content)).toBe(true);
        expect(entry.mtime.getTime()).toBe(file.name === "empty.txt" ? oldTime.getTime() : mtime.getTime());
      }
      const link = byName.get("fs/media/home.html")!;
      expect(link.isSymlink).toBe(true);
      expect((await archive.readEntry(link)).toString()).toBe("../index.html");
      expect(result.entries.find((e) => e.name === "fs/media/home.html")!.linkTarget).toBe("../index.html");
      expect(byName.get("fs/uploads/empty/")!.kind).toBe("directory");
      expect((await archive.readEntry(byName.get("MainDb.sql")!)).toString()).toBe(dump);
    } finally {
      await archive.close();
    }
  });

  it("reports SHA-256 of the uncompressed content in the archive entries", () => {
    for (const file of files) {
      expect(result.entries.find((e) => e.name === `fs/${file.name}`)!.sha256).toBe(sha256(file.content));
    }
    expect(result.entries.find((e) => e.name === "MainDb.sql")!.sha256).toBe(sha256(dump));
    expect(result.entries.find((e) => e.name === "fs/uploads/empty/")!.sha256).toBe(sha256(""));
  });
});
