import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { deflateRawSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { libdeflateLevelFor } from "../../core/archive/compression-policy.js";
import { deflateEngine, type DeflateEngine } from "../../core/archive/deflate-engine.js";
import { fileSink } from "../../core/archive/file-sink.js";
import { archiveWorkersStarted } from "../../core/archive/worker-pool.js";
import { ZipWriter } from "../../core/archive/zip-writer.js";
import { contentsOf, pythonInspect, tempFolder, unzipTest } from "../support/zip-tools.js";

const temp = tempFolder("deflate-engines");
afterAll(() => temp.remove());
const mtime = new Date("2024-02-03T04:05:06Z");
let counter = 0;

const libdeflate = deflateEngine("libdeflate");
const zlib = deflateEngine("zlib");

/** Text that deflates differently by engine: words in a varying order, so there is work for the match finder. */
function text(seed: number, length: number): Buffer {
  const words = ["const", "export", "function", "return", "module", "require", "value", "index", "string", "number", "=>", "{", "}", ";"];
  let state = seed;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const word = words[state % words.length]!;
    parts.push(word, state % 11 === 0 ? "\n" : " ");
    size += word.length + 1;
  }
  return Buffer.from(parts.join("").slice(0, length));
}

interface Source {
  name: string;
  data: Buffer;
  /** Added as a file on disk, else handed over as bytes. */
  file: boolean;
}

/** A home's mix: many small text files (batched to the workers), bytes handed over, random data, a large file deflated in blocks. */
function sources(): Source[] {
  const list: Source[] = [];
  for (let i = 0; i < 1500; i++) list.push({ name: `site/t${i}.js`, data: text(i, 200 + ((i * 37) % 6000)), file: true });
  for (let i = 0; i < 300; i++) list.push({ name: `remote/b${i}.txt`, data: text(10_000 + i, 100 + ((i * 53) % 3000)), file: false });
  list.push({ name: "site/random.bin", data: randomBytes(40_000), file: true });
  list.push({ name: "site/large.js", data: text(99, 5 * 1024 * 1024 + 17), file: true });
  return list;
}

async function archive(engine: DeflateEngine, items: Source[]) {
  const zipPath = path.join(temp.path, `archive-${++counter}.zip`);
  const sink = await fileSink(zipPath);
  const zip = new ZipWriter(sink, { deflate: engine });
  try {
    for (const item of items) {
      if (item.file) {
        const file = path.join(temp.path, "files", item.name);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, item.data);
        zip.addFile(item.name, file, { size: statSync(file).size, mtime, mode: 0o644 });
      } else {
        zip.addBuffer(item.name, Buffer.from(item.data), { mtime, mode: 0o644 });
      }
    }
    const result = await zip.finish();
    return { zipPath, entries: [...result.entries] };
  } finally {
    await sink.close();
  }
}

/** The length of libdeflate's deflate of `data` at `level`, through the binding itself. */
function libdeflateLength(data: Buffer, level: number): number {
  const output = Buffer.alloc(data.length * 2 + 1024);
  return libdeflate.libdeflate!.deflate(data, level, output);
}

describe("both deflate engines", () => {
  it("make zips that unzip, Python and our reader read back byte for byte, with the same checksums, libdeflate's files by libdeflate", async () => {
    const items = sources();
    const before = archiveWorkersStarted();
    const made = { libdeflate: await archive(libdeflate, items), zlib: await archive(zlib, items) };
    expect(archiveWorkersStarted()).toBeGreaterThan(before);
    for (const { zipPath, entries } of Object.values(made)) {
      expect(unzipTest(zipPath).ok).toBe(true);
      expect(pythonInspect(zipPath).testzip).toBeNull();
      const contents = await contentsOf(zipPath);
      expect(entries.map((e) => e.name)).toEqual(items.map((i) => i.name));
      for (const item of items) {
        expect(contents.get(item.name)!.equals(item.data)).toBe(true);
        expect(entries.find((e) => e.name === item.name)!.sha256).toBe(createHash("sha256").update(item.data).digest("hex"));
      }
    }
    const sized = (engine: keyof typeof made, name: string) => made[engine].entries.find((e) => e.name === name)!;
    for (const item of items.filter((i) => i.name.endsWith(".js") && i.data.length < 1024 * 1024).slice(0, 50).concat(items.filter((i) => i.name.startsWith("remote/")).slice(0, 50))) {
      expect(sized("libdeflate", item.name).crc32).toBe(sized("zlib", item.name).crc32);
      // Files read whole, on the workers, and bytes handed over: each engine's own deflate, at level 4 (libdeflate's level 1 up to a few KB).
      expect(sized("libdeflate", item.name).compressedSize).toBe(libdeflateLength(item.data, libdeflateLevelFor(item.data.length, 4)));
      expect(sized("zlib", item.name).compressedSize).toBe(deflateRawSync(item.data, { level: 4 }).length);
    }
    // Incompressible data is stored by both; the large file is deflated in blocks by zlib either way.
    expect(sized("libdeflate", "site/random.bin").method).toBe("store");
    expect(sized("zlib", "site/random.bin").method).toBe("store");
    expect(sized("libdeflate", "site/large.js").compressedSize).toBe(sized("zlib", "site/large.js").compressedSize);
  });

  it("deflate work too small for a worker with libdeflate on the main thread", async () => {
    const items: Source[] = [
      { name: "meta", data: text(1, 3000), file: false },
      { name: "site/index.js", data: text(2, 5000), file: true },
    ];
    const before = archiveWorkersStarted();
    const { zipPath, entries } = await archive(libdeflate, items);
    expect(archiveWorkersStarted()).toBe(before);
    const contents = await contentsOf(zipPath);
    for (const item of items) {
      expect(contents.get(item.name)!.equals(item.data)).toBe(true);
      expect(entries.find((e) => e.name === item.name)!.compressedSize).toBe(libdeflateLength(item.data, libdeflateLevelFor(item.data.length, 4)));
    }
  });
});
