import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { craftBackup, metaEntry, type CraftedEntry } from "../../test/support/crafted-backup.js";
import { parseManifestTable } from "../format/manifest-reader.js";
import { manifestToXml } from "../format/manifest-xml.js";
import type { EntryTable } from "./entry-table.js";
import { MAX_BATCHES_PER_WORKER } from "./extract-dispatch.js";
import { ExtractPool } from "./extract-pool.js";
import { extractEntries, type EntryFailure, type ExtractItem, type ExtractOptions } from "./extract.js";
import { readingInto, type ReusableBufferSource } from "./random-access-source.js";
import { readZipIndex, type ZipIndex } from "./zip-index.js";

const SMALL_FILES = 200;
const LARGE_BYTES = 600 * 1024;
/** Small enough that the large entry is streamed in many chunks and the small ones travel in many batches. */
const SMALL_LIMITS = { largeEntryBytes: 16 * 1024, chunkBytes: 16 * 1024, batchBytes: 1024, maxInFlightBytes: 4 * 1024 } satisfies Partial<ExtractOptions>;
const ON_WORKERS = { mainThreadArchiveBytes: 0 };
const ON_MAIN_THREAD = { mainThreadArchiveBytes: Number.MAX_SAFE_INTEGER };

const contentOf = (index: number) => Buffer.from(`file ${index}: ${"abc".repeat(index % 50)}\n`);

// Small files, a large one among them, more small files after it.
const entries: CraftedEntry[] = [
  metaEntry,
  ...Array.from({ length: SMALL_FILES }, (_, index) => ({ name: `fs/f${index}.txt`, mode: 0o100644, content: { bytes: contentOf(index) } })),
  { name: "fs/large.bin", mode: 0o100644, content: { zeros: LARGE_BYTES } },
  ...Array.from({ length: SMALL_FILES }, (_, index) => ({ name: `fs/g${index}.txt`, mode: 0o100644, content: { bytes: contentOf(index) } })),
];

let source: ReusableBufferSource;
let zip: ZipIndex;
let digests: EntryTable;
/** The manifest's table with a wrong SHA-256 for fs/g3.txt. */
let damagedDigests: EntryTable;
let target: string;

beforeAll(async () => {
  const crafted = await craftBackup("shop_20240506070810", entries);
  const bytes = crafted.zip;
  source = readingInto({ size: bytes.length, local: true, readInto: async (into, offset, length) => void into.set(bytes.subarray(offset, offset + length)) });
  zip = await readZipIndex(source);
  digests = parseManifestTable(Buffer.from(manifestToXml(crafted.manifest)), "m.xml").table;
  const damaged = crafted.manifest.entries.map((entry) => (entry.name === "fs/g3.txt" ? { ...entry, sha256: "0".repeat(64) } : entry));
  damagedDigests = parseManifestTable(Buffer.from(manifestToXml({ ...crafted.manifest, entries: damaged })), "m.xml").table;
});

beforeEach(() => {
  target = mkdtempSync(path.join(os.tmpdir(), "app-backup-extract-"));
});

afterEach(() => {
  rmSync(target, { recursive: true, force: true });
});

/** Every file entry, in zip order (the order they were written in, as are the manifest's rows), written under `target` by its name without `fs/`. */
function* fileItems(pulled: { count: number } = { count: 0 }, write = true): Generator<ExtractItem> {
  for (let row = 0; row < zip.table.count; row++) {
    const name = entries[row]!.name;
    if (!name.startsWith("fs/")) continue;
    pulled.count++;
    yield { name, zipIndex: row, digestIndex: row, ...(write ? { targetRoot: target } : {}) };
  }
}

function expectEveryFileWritten(): void {
  expect(readdirSync(target)).toHaveLength(2 * SMALL_FILES + 1);
  expect(readFileSync(path.join(target, "f7.txt"))).toEqual(contentOf(7));
  expect(readFileSync(path.join(target, `g${SMALL_FILES - 1}.txt`))).toEqual(contentOf(SMALL_FILES - 1));
  expect(readFileSync(path.join(target, "large.bin"))).toEqual(Buffer.alloc(LARGE_BYTES));
}

describe.each([
  ["worker threads", ON_WORKERS],
  ["the main thread", ON_MAIN_THREAD],
])("extracting on %s", (_, where) => {
  it("pulls items from a lazy iterable as it goes, and extracts every one", async () => {
    const pulled = { count: 0 };
    let pulledAtFirstAnswer: number | undefined;
    await extractEntries(source, zip, fileItems(pulled), {
      ...SMALL_LIMITS,
      ...where,
      digests,
      onProgress: () => (pulledAtFirstAnswer ??= pulled.count),
    });

    // The batches' budget holds a few hundred of these entries: the first answer comes well before the large entry is reached.
    expect(pulledAtFirstAnswer).toBeLessThan(SMALL_FILES);
    expect(pulled.count).toBe(2 * SMALL_FILES + 1);
    expectEveryFileWritten();
  });

  it("checks every digest around a large entry: a damaged entry after it is reported, all the others written", async () => {
    const corrupt: EntryFailure[] = [];
    let files = 0;

    await extractEntries(source, zip, fileItems(), {
      ...SMALL_LIMITS,
      ...where,
      digests: damagedDigests,
      onCorrupt: (failure) => corrupt.push(failure),
      onProgress: (progress) => (files = progress.files),
    });

    expect(corrupt.map((failure) => [failure.entryName, failure.reason])).toEqual([["fs/g3.txt", "its SHA-256 does not match the manifest"]]);
    expect(files).toBe(2 * SMALL_FILES);
  });

  it("keeps a bounded number of jobs and items in flight however many bytes the budget would allow", async () => {
    const pulled = { count: 0 };
    let mostAhead = 0;
    const pool = new ExtractPool(2);
    try {
      await extractEntries(source, zip, fileItems(pulled), {
        ...SMALL_LIMITS,
        ...where,
        // A budget that would let every batch of tiny entries go out at once: only the job slots hold them back.
        maxInFlightBytes: 1024 * 1024 * 1024,
        pool,
        digests,
        onProgress: (progress) => (mostAhead = Math.max(mostAhead, pulled.count - progress.files)),
      });
    } finally {
      await pool.close();
    }

    const runners = where === ON_WORKERS ? 2 : 1;
    // Batches in flight per worker, plus one large entry per worker.
    expect(pool.mostJobsAtOnce).toBeLessThanOrEqual(runners * (MAX_BATCHES_PER_WORKER + 1));
    expect(mostAhead).toBeLessThan(SMALL_FILES / 2);
    expectEveryFileWritten();
  });

  it("refuses items that do not come in zip order, as a caller's bug", async () => {
    function* backwards(): Generator<ExtractItem> {
      const items = [...fileItems()];
      yield items[5]!;
      yield items[4]!;
    }
    await expect(extractEntries(source, zip, backwards(), { ...where, digests })).rejects.toThrow(/must come in zip order: fs\/f4\.txt .* came after fs\/f5\.txt/);
  });

  it("still takes an array in any order, putting it in zip order", async () => {
    await extractEntries(source, zip, [...fileItems()].reverse(), { ...SMALL_LIMITS, ...where, digests });

    expectEveryFileWritten();
  });
});

describe("worker threads", () => {
  it("are not started for an archive small enough for the main thread", async () => {
    expect(zip.dataLimit).toBeLessThan(1024 * 1024);
    const before = ExtractPool.threadsStarted;

    await extractEntries(source, zip, fileItems(), { digests });
    const pool = new ExtractPool(2).warm();
    await extractEntries(source, zip, fileItems({ count: 0 }, false), { digests, pool });
    await pool.close();

    expect(ExtractPool.threadsStarted).toBe(before);
  });

  it("are started for an archive whose entries inflate to more, however small its data", async () => {
    expect(zip.dataLimit).toBeLessThan(100 * 1024);
    const before = ExtractPool.threadsStarted;

    await extractEntries(source, zip, fileItems(), { mainThreadArchiveBytes: 100 * 1024, digests, workers: 2 });

    expect(ExtractPool.threadsStarted).toBeGreaterThan(before);
    expectEveryFileWritten();
  });

  it("are as many as the pool's size when it does not share the main thread, as for archives under a few hundred thousand entries", async () => {
    const before = ExtractPool.threadsStarted;
    const pool = new ExtractPool(2);
    try {
      await extractEntries(source, zip, fileItems(), { ...SMALL_LIMITS, ...ON_WORKERS, maxInFlightBytes: 1024 * 1024, pool, digests });
    } finally {
      await pool.close();
    }
    expect(ExtractPool.threadsStarted - before).toBe(2);
    expect(pool.mainThreadBatches).toBe(0);
    expectEveryFileWritten();
  });

  it("are one fewer than the pool's size when it shares the main thread: the main thread takes batches when they are busy, and checks them alike", async () => {
    const before = ExtractPool.threadsStarted;
    const pool = new ExtractPool(3);
    pool.shareMainThread();
    const corrupt: EntryFailure[] = [];
    try {
      await extractEntries(source, zip, fileItems(), { ...SMALL_LIMITS, ...ON_WORKERS, maxInFlightBytes: 1024 * 1024, pool, digests: damagedDigests, onCorrupt: (failure) => corrupt.push(failure) });
    } finally {
      await pool.close();
    }

    expect(ExtractPool.threadsStarted - before).toBe(2);
    expect(pool.mainThreadBatches).toBeGreaterThan(0);
    expect(corrupt.map((failure) => failure.entryName)).toEqual(["fs/g3.txt"]);
    expect(readdirSync(target)).toHaveLength(2 * SMALL_FILES);
    expect(readFileSync(path.join(target, "f7.txt"))).toEqual(contentOf(7));
  });
});
