import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fileSink } from "../../core/archive/file-sink.js";
import { openZipFile } from "../../core/archive/zip-reader.js";
import { ZipWriter, type ZipWriterOptions } from "../../core/archive/zip-writer.js";
import { pythonInspect, tempFolder, unzipTest, zipinfo } from "../support/zip-tools.js";

const temp = tempFolder("stream-entries");
afterAll(() => temp.remove());

const mtime = new Date("2024-02-03T04:05:06Z");
/** Tiny blocks, so that small test streams cross many block boundaries on the workers. */
const BLOCK = 1000;
const smallBlocks: ZipWriterOptions = { streamBlocks: { blockSize: BLOCK, smallStreamLimit: 4 * BLOCK } };
let counter = 0;

function rows(size: number, salt: number): Buffer {
  let text = "";
  for (let row = salt; text.length < size; row++) text += `${row}\tAccount holder ${row % 501}\tuser${row}@example.com\t${(row * 7919) % 100000}\n`;
  return Buffer.from(text.slice(0, size));
}

/** Feeds `data` in pieces of uneven sizes, as a socket would. */
function pieces(data: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let at = 0, step = 1; at < data.length; at += step, step = (step * 7 + 13) % 3001) parts.push(data.subarray(at, at + step));
  return Readable.from(parts);
}

async function archiveStreams(streams: Map<string, Buffer>, options: ZipWriterOptions) {
  const zipPath = path.join(temp.path, `streams-${++counter}.zip`);
  const sink = await fileSink(zipPath);
  const zip = new ZipWriter(sink, options);
  try {
    const entries = await Promise.all([...streams].map(([name, data]) => zip.addStream(name, pieces(data), { mtime, mode: 0o644 })));
    await zip.finish();
    return { zipPath, entries };
  } finally {
    await sink.close();
  }
}

describe("stream entries deflated in blocks on the workers", () => {
  it("read back as exactly the bytes streamed, in unzip, Python and our reader", async () => {
    const sizes = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 4 * BLOCK - 1, 4 * BLOCK, 4 * BLOCK + 1, 5 * BLOCK, 137 * BLOCK + 59];
    const streams = new Map<string, Buffer>();
    for (const size of sizes) streams.set(`text-${size}.sql`, rows(size, size));
    streams.set("random.bin", randomBytes(23 * BLOCK + 7));
    const { zipPath, entries } = await archiveStreams(streams, smallBlocks);

    expect(unzipTest(zipPath)).toMatchObject({ ok: true });
    const python = pythonInspect(zipPath, { hashes: true });
    expect(python.testzip).toBeNull();
    const info = zipinfo(zipPath);
    const reader = await openZipFile(zipPath);
    try {
      for (const [index, [name, data]] of [...streams].entries()) {
        const sha256 = createHash("sha256").update(data).digest("hex");
        expect(python.entries.find((e) => e.name === name)).toMatchObject({ size: data.length, sha256 });
        expect(entries[index]!.sha256).toBe(sha256);
        expect(info.get(name)?.method).toBe("defN");
        const entry = reader.entries.find((e) => e.name === name)!;
        expect((await reader.readEntry(entry)).equals(data)).toBe(true);
      }
    } finally {
      await reader.close();
    }
    // Matches reach across blocks: the long text stream still deflates as text does.
    const long = python.entries.find((e) => e.name === `text-${137 * BLOCK + 59}.sql`)!;
    expect(long.compressSize).toBeLessThan(long.size / 3);
  });

  it("completes a long stream while files queued after it hold the workers' output slots", async () => {
    const folder = path.join(temp.path, "after-stream");
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, "page.html");
    writeFileSync(file, "<p>page</p>\n".repeat(2000));
    const dump = rows(300 * BLOCK, 1);
    const zipPath = path.join(temp.path, "stream-then-files.zip");
    const sink = await fileSink(zipPath);
    const zip = new ZipWriter(sink, smallBlocks);
    const entry = zip.addStream("dump.sql", pieces(dump), { mtime, mode: 0o644 });
    for (let i = 0; i < 3000; i++) zip.addFile(`pages/${i}.html`, file, { size: 24_000, mtime, mode: 0o644 });
    await zip.finish();
    await sink.close();
    expect((await entry).size).toBe(dump.length);
    expect(unzipTest(zipPath)).toMatchObject({ ok: true });
  });

  it("fails the entry and the archive when the source fails between blocks, and lets the process exit", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const zipPath = path.join(temp.path, "failing-stream.zip");
    const root = path.resolve(here, "../..");
    const script = path.join(temp.path, "failing-stream.mjs");
    writeFileSync(script, `
      import { fileSink } from ${JSON.stringify(path.join(root, "dist/core/archive/file-sink.js"))};
      import { ZipWriter } from ${JSON.stringify(path.join(root, "dist/core/archive/zip-writer.js"))};
      const sink = await fileSink(${JSON.stringify(zipPath)});
      const zip = new ZipWriter(sink, { streamBlocks: { blockSize: ${BLOCK}, smallStreamLimit: ${4 * BLOCK} } });
      async function* dump() {
        for (let i = 0; i < 40; i++) yield Buffer.from("row " + i + " of a table\\n".repeat(50));
        throw new Error("connection to the database was lost");
      }
      const entry = zip.addStream("db.sql", dump(), { mtime: new Date(), mode: 0o644 });
      const results = await Promise.allSettled([entry, zip.finish()]);
      await sink.close();
      console.log(results.map((r) => r.status + ": " + (r.reason?.message ?? "")).join("\\n"));
    `);
    const run = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000 });
    // Exiting on its own (no timeout signal) means no worker was left running.
    expect({ signal: run.signal, status: run.status, stderr: run.stderr }).toEqual({ signal: null, status: 0, stderr: "" });
    expect(run.stdout.trim().split("\n")).toEqual(["rejected: connection to the database was lost", "rejected: connection to the database was lost"]);
  });
});
