import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readManifestHead } from "./manifest-head.js";
import type { ArchiveEntry } from "../archive/types.js";
import type { BackupManifest } from "./manifest.js";
import { manifestToXml } from "./manifest-xml.js";
import { parseManifestSummary } from "./manifest-xml-parse.js";
import type { Store } from "../store/store.js";

const seed = Number(process.env.FC_SEED ?? 20261206);
const at = new Date("2026-11-30T02:00:00.000Z");

function manifest(skipped: number, warnings: number): BackupManifest {
  const entries: ArchiveEntry[] = [
    { name: "meta", kind: "file", size: 12, compressedSize: 10, method: "deflate", crc32: 1, sha256: "ab".repeat(32), mtime: at, mode: 0o100644 },
  ];
  return {
    formatVersion: 1,
    appName: "shop",
    backupName: "shop_20261130020000",
    status: skipped ? "PartiallySucceeded" : "Succeeded",
    trigger: "Scheduled",
    startedAt: at,
    finishedAt: new Date(at.getTime() + 61_000),
    toolVersion: "0.1.0",
    zip: { name: "shop_20261130020000.zip", sizeBytes: 4242 },
    contentBytes: 999,
    files: 7,
    origin: { run: "42" },
    filter: { source: "_backup.filter", lines: ["site/uploads"] },
    warnings: Array.from({ length: warnings }, (_, i) => `warning ${i}: ${"w".repeat(100)}`),
    databases: [],
    skipped: Array.from({ length: skipped }, (_, i) => ({ name: `fs/site/unreadable/${String(i).padStart(7, "0")}.dat`, reason: "EACCES: permission denied" })),
    entries,
  };
}

/** A store of one object that hands out its bytes in the chunk sizes given, and counts what it handed out. */
function storeOf(bytes: Buffer, chunkSizes: number[] = [64 * 1024]) {
  const served = { bytes: 0 };
  const store = {
    async read(_name: string, range?: { offset: number; length: number }) {
      const end = range ? Math.min(bytes.length, range.offset + range.length) : bytes.length;
      let at = range?.offset ?? 0;
      let turn = 0;
      return Readable.from(
        (function* () {
          while (at < end) {
            const size = Math.max(1, chunkSizes[turn++ % chunkSizes.length]!);
            const chunk = bytes.subarray(at, Math.min(end, at + size));
            at += chunk.length;
            served.bytes += chunk.length;
            yield chunk;
          }
        })(),
      );
    },
  } as unknown as Store;
  return { store, served };
}

describe("a manifest's summary from its head", () => {
  it("is the summary of the whole manifest, however its bytes arrive", async () => {
    const xml = Buffer.from(manifestToXml(manifest(40, 12)));
    const expected = parseManifestSummary(xml.toString("utf8"), "m.xml");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), async (chunkSizes) => {
        const { store } = storeOf(xml, chunkSizes);
        expect(await readManifestHead(store, "m.xml", xml.length)).toEqual(expected);
      }),
      { seed, numRuns: 200 },
    );
  });

  it("of a backup with a hundred thousand unreadable files lists it, without its lists and without reading its entries", async () => {
    const big = manifest(100_000, 100_000);
    big.entries = Array.from({ length: 20_000 }, (_, i) => ({ ...big.entries[0]!, name: `fs/site/${i}.txt` }));
    const xml = Buffer.from(manifestToXml(big));
    const headBytes = xml.indexOf("<Entries");
    expect(headBytes).toBeGreaterThan(16 * 1024 * 1024);
    const { store, served } = storeOf(xml);
    const summary = await readManifestHead(store, "m.xml", xml.length);
    expect(summary).toMatchObject({ appName: "shop", backupName: "shop_20261130020000", status: "PartiallySucceeded", files: 7, zip: { name: "shop_20261130020000.zip", sizeBytes: 4242 } });
    expect(summary.filter.lines).toEqual(["site/uploads"]);
    expect(summary.origin).toEqual({ run: "42" });
    expect(summary.skipped).toEqual([]);
    expect(summary.warnings).toEqual([]);
    // It stops at the entry list: no more than one chunk of it is read.
    expect(served.bytes).toBeLessThan(headBytes + 64 * 1024 + 1);
  });

  it("refuses a head that never reaches its entry list, reading no further than the limit of a head", async () => {
    const endless = Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\n<BackupManifest formatVersion="1">\n  <AppName>shop</AppName>\n  <Warnings>\n${"    <Warning>w</Warning>\n".repeat(1_000)}`);
    const { store } = storeOf(endless);
    await expect(readManifestHead(store, "m.xml", endless.length + 10)).rejects.toMatchObject({ code: "BACKUP_CORRUPT", message: expect.stringMatching(/ended before its entry list/) });
  });

  it("refuses a declaration anywhere in the head", async () => {
    const xml = manifestToXml(manifest(0, 1)).replace("<Warnings>", '<Warnings><!ENTITY x "y">');
    const { store } = storeOf(Buffer.from(xml), [5]);
    await expect(readManifestHead(store, "m.xml", Buffer.byteLength(xml))).rejects.toMatchObject({ code: "BACKUP_CORRUPT", message: expect.stringMatching(/declaration/) });
  });
});
