import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferSource, openZip, openZipFile, ZipFormatError, type ZipArchive } from "../../core/archive/zip-reader.js";
import { tempFolder } from "../support/zip-tools.js";

const temp = tempFolder("zip-reader");
afterAll(() => temp.remove());

function run(command: string, args: string[], cwd: string, input?: string): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", input });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
}

async function readAll(archive: ZipArchive): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  for (const entry of archive.entries) contents.set(entry.name, await archive.readEntry(entry));
  return contents;
}

describe("reading archives made by other tools", () => {
  const tree = path.join(temp.path, "tree");
  const mtime = new Date("2022-12-25T10:20:30Z");
  const big = Buffer.from("some text that compresses well\n".repeat(200_000));
  const noise = randomBytes(70_000);

  beforeAll(() => {
    mkdirSync(path.join(tree, "dir/empty"), { recursive: true });
    writeFileSync(path.join(tree, "dir/big.txt"), big);
    writeFileSync(path.join(tree, "noise.dat"), noise);
    writeFileSync(path.join(tree, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    symlinkSync("dir/big.txt", path.join(tree, "link"));
    for (const name of ["dir/big.txt", "noise.dat", "run.sh"]) utimesSync(path.join(tree, name), mtime, mtime);
  });

  it("reads an Info-ZIP archive: contents, modes, symlinks, directories, exact mtimes", async () => {
    const zipPath = path.join(temp.path, "infozip.zip");
    run("zip", ["-qry", zipPath, "."], tree);
    const archive = await openZipFile(zipPath);
    try {
      const byName = new Map(archive.entries.map((e) => [e.name, e]));
      expect(byName.get("dir/empty/")!.kind).toBe("directory");
      expect(byName.get("run.sh")!.mode).toBe(0o100755);
      expect(byName.get("link")!.isSymlink).toBe(true);
      expect(byName.get("dir/big.txt")!.method).toBe(8);
      expect(byName.get("dir/big.txt")!.mtime.getTime()).toBe(mtime.getTime());
      const contents = await readAll(archive);
      expect(contents.get("dir/big.txt")!.equals(big)).toBe(true);
      expect(contents.get("noise.dat")!.equals(noise)).toBe(true);
      expect(contents.get("link")!.toString()).toBe("dir/big.txt");
    } finally {
      await archive.close();
    }
  });

  it("reads a Zip64 archive with data descriptors written by Python to a pipe", async () => {
    const zipPath = path.join(temp.path, "python-stream.zip");
    const script = [
      "import sys, zipfile",
      "with zipfile.ZipFile(sys.stdout.buffer, 'w', zipfile.ZIP_DEFLATED) as z:",
      "    with z.open('big.txt', 'w', force_zip64=True) as f:",
      "        f.write(open(sys.argv[1], 'rb').read())",
      "    z.writestr('small.txt', 'small')",
    ].join("\n");
    const result = spawnSync("python3", ["-c", script, path.join(tree, "dir/big.txt")], { maxBuffer: 64 * 1024 * 1024 });
    expect(result.status).toBe(0);
    writeFileSync(zipPath, result.stdout);
    const archive = await openZip(bufferSource(readFileSync(zipPath)));
    const contents = await readAll(archive);
    expect(archive.entries[0]!.flags & 0x0008).toBe(0x0008);
    expect(contents.get("big.txt")!.equals(big)).toBe(true);
    expect(contents.get("small.txt")!.toString()).toBe("small");
  });

  it("gives the raw byte range of an entry, to inflate elsewhere", async () => {
    const zipPath = path.join(temp.path, "infozip.zip");
    const archive = await openZipFile(zipPath);
    try {
      const entry = archive.entries.find((e) => e.name === "dir/big.txt")!;
      const range = await archive.dataRange(entry);
      expect(range.length).toBe(entry.compressedSize);
      const raw = readFileSync(zipPath).subarray(range.offset, range.offset + range.length);
      const inflated = zlib.inflateRawSync(raw);
      expect(inflated.equals(big)).toBe(true);
      expect(zlib.crc32(inflated)).toBe(entry.crc32);
    } finally {
      await archive.close();
    }
  });
});

describe("rejecting what cannot be read", () => {
  let good: Buffer;

  beforeAll(() => {
    const folder = path.join(temp.path, "reject");
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, "a.txt"), "hello hello hello hello hello\n".repeat(1000));
    run("zip", ["-q", "good.zip", "a.txt"], folder);
    run("zip", ["-q", "-P", "secret", "encrypted.zip", "a.txt"], folder);
    run("zip", ["-q", "-Z", "bzip2", "bzip2.zip", "a.txt"], folder);
    run("zip", ["-q", "-0", "stored.zip", "a.txt"], folder);
    good = readFileSync(path.join(folder, "good.zip"));
  });

  it("rejects a file that is not a zip", async () => {
    await expect(openZip(bufferSource(randomBytes(5000)))).rejects.toThrow(/no end-of-central-directory record/);
    await expect(openZip(bufferSource(Buffer.from("tiny")))).rejects.toThrow(/too short to be a zip/);
  });

  it("rejects a truncated archive", async () => {
    const truncated = good.subarray(0, good.length - 30);
    await expect(openZip(bufferSource(truncated))).rejects.toBeInstanceOf(ZipFormatError);
  });

  it("rejects a damaged central directory", async () => {
    const damaged = Buffer.from(good);
    const at = damaged.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    damaged[at + 2] = 0x09;
    await expect(openZip(bufferSource(damaged))).rejects.toThrow(/central directory entry 1 is damaged/);
  });

  it("fails the entry stream when the data does not match its CRC", async () => {
    const archive = await openZip(bufferSource(good));
    const entry = archive.entries[0]!;
    const range = await archive.dataRange(entry);
    const damaged = Buffer.from(good);
    // Flip bits in the last bytes of the deflate stream, where the literal data lives.
    damaged[range.offset + range.length - 3] ^= 0x55;
    const broken = await openZip(bufferSource(damaged));
    await expect(broken.readEntry(broken.entries[0]!)).rejects.toBeInstanceOf(ZipFormatError);
  });

  it("fails a stored entry whose bytes changed, naming the CRC check", async () => {
    const folder = path.join(temp.path, "reject");
    const stored = readFileSync(path.join(folder, "stored.zip"));
    const archive = await openZip(bufferSource(stored));
    const range = await archive.dataRange(archive.entries[0]!);
    const damaged = Buffer.from(stored);
    damaged[range.offset + 10] ^= 0x01;
    const broken = await openZip(bufferSource(damaged));
    await expect(broken.readEntry(broken.entries[0]!)).rejects.toThrow(/fails its CRC-32 check/);
  });

  it("says clearly that encrypted entries and other compression methods are not supported", async () => {
    const folder = path.join(temp.path, "reject");
    const encrypted = await openZipFile(path.join(folder, "encrypted.zip"));
    await expect(encrypted.openEntry(encrypted.entries[0]!)).rejects.toThrow(/encrypted/);
    await encrypted.close();
    const bzip2 = await openZipFile(path.join(folder, "bzip2.zip"));
    await expect(bzip2.openEntry(bzip2.entries[0]!)).rejects.toThrow(/compression method 12/);
    await bzip2.close();
  });
});
