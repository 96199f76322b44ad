import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ByteSink } from "../../core/archive/types.js";
import { openZipFile } from "../../core/archive/zip-reader.js";

/** `unzip -t`: Info-ZIP's own check of every entry's data and CRC. */
export function unzipTest(zipPath: string): { ok: boolean; output: string } {
  const run = spawnSync("unzip", ["-t", zipPath], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const output = `${run.stdout}${run.stderr}`;
  return { ok: run.status === 0 && output.includes("No errors detected"), output };
}

/** `unzip -Z` (zipinfo) listing lines, keyed by entry name: mode string, host, size, method. */
export function zipinfo(zipPath: string): Map<string, { permissions: string; host: string; size: number; method: string }> {
  const run = spawnSync("unzip", ["-Z", zipPath], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`unzip -Z failed: ${run.stderr}`);
  const lines = new Map<string, { permissions: string; host: string; size: number; method: string }>();
  for (const line of run.stdout.split("\n")) {
    // -rw-r--r--  6.3 unx     1234 bx defN 24-May-01 12:00 name
    const match = /^(\S{10})\s+\S+\s+(\S+)\s+(\d+)\s+\S+\s+(\S+)\s+\S+\s+\S+\s(.*)$/.exec(line);
    if (match) lines.set(match[5]!, { permissions: match[1]!, host: match[2]!, size: Number(match[3]), method: match[4]! });
  }
  return lines;
}

export interface PythonEntry {
  name: string;
  size: number;
  compressSize: number;
  method: number;
  mode: number;
  isDir: boolean;
  /** Seconds from the 0x5455 extended-timestamp field of the central directory, if present. */
  utMtime: number | null;
  linkTarget?: string;
  sha256?: string;
}

const PYTHON_INSPECT = String.raw`
import base64, hashlib, json, struct, sys, zipfile
with_hashes = sys.argv[2] == "hashes"
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    out = []
    for i in z.infolist():
        ut = None
        extra, p = i.extra, 0
        while p + 4 <= len(extra):
            hid, ln = struct.unpack("<HH", extra[p:p + 4])
            if hid == 0x5455 and ln >= 5 and extra[p + 4] & 1:
                ut = struct.unpack("<I", extra[p + 5:p + 9])[0]
            p += 4 + ln
        mode = i.external_attr >> 16
        entry = dict(name=i.filename, size=i.file_size, compressSize=i.compress_size, method=i.compress_type,
                     mode=mode, isDir=i.is_dir(), utMtime=ut)
        if (mode & 0o170000) == 0o120000:
            entry["linkTarget"] = z.read(i).decode()
        if with_hashes and not i.is_dir():
            h = hashlib.sha256()
            with z.open(i) as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            entry["sha256"] = h.hexdigest()
        out.append(entry)
print(json.dumps(dict(testzip=bad, entries=out)))
`;

/** Python's zipfile: `testzip()` (reads and CRC-checks every entry), then what it sees of each entry. */
export function pythonInspect(zipPath: string, options: { hashes?: boolean } = {}): { testzip: string | null; entries: PythonEntry[] } {
  const run = spawnSync("python3", ["-c", PYTHON_INSPECT, zipPath, options.hashes ? "hashes" : "plain"], {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`python3 zipfile failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { testzip: string | null; entries: PythonEntry[] };
}

export function memorySink(): ByteSink & { data(): Buffer } {
  const chunks: Buffer[] = [];
  return {
    async write(chunk: Buffer) {
      // The writer reuses its buffers once a write settles.
      chunks.push(Buffer.from(chunk));
    },
    data: () => Buffer.concat(chunks),
  };
}

/**
 * Writes to a file but leaves runs of zeros as holes, so a multi-GiB test
 * archive made mostly of zeros takes little disk and time.
 */
export async function sparseFileSink(filePath: string): Promise<ByteSink & { close(): Promise<void> }> {
  const handle = await open(filePath, "w");
  const block = 64 * 1024;
  const zeros = Buffer.alloc(block);
  let position = 0;
  return {
    async write(chunk: Buffer) {
      for (let start = 0; start < chunk.length; start += block) {
        const piece = chunk.subarray(start, start + block);
        if (!piece.equals(zeros.subarray(0, piece.length))) await handle.write(piece, 0, piece.length, position + start);
      }
      position += chunk.length;
    },
    async close() {
      await handle.truncate(position);
      await handle.close();
    },
  };
}

/** A temp folder removed after the test file. */
export function tempFolder(prefix: string): { path: string; remove(): void } {
  const folder = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { path: folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Every entry's content, read back with our reader. */
export async function contentsOf(zipPath: string): Promise<Map<string, Buffer>> {
  const reader = await openZipFile(zipPath);
  try {
    const contents = new Map<string, Buffer>();
    for (const entry of reader.entries) contents.set(entry.name, await reader.readEntry(entry));
    return contents;
  } finally {
    await reader.close();
  }
}
