import { describe, expect, it } from "vitest";
import type { ArchiveEntry } from "../archive/types.js";
import type { BackupManifest } from "./manifest.js";
import { manifestToXml } from "./manifest-xml.js";
import { parseManifest } from "./manifest-xml-parse.js";
import { parseManifestQuickly } from "./manifest-reader.js";

const mtime = new Date("2024-02-29T23:59:58.123Z");

function entry(name: string, extra: Partial<ArchiveEntry> = {}): ArchiveEntry {
  return { name, kind: "file", size: 12, compressedSize: 10, method: "deflate", crc32: 0xdeadbeef, sha256: "ab".repeat(32), mtime, mode: 0o100644, ...extra };
}

function manifestWith(entries: ArchiveEntry[]): BackupManifest {
  return {
    formatVersion: 1,
    appName: "shop",
    backupName: "shop_20240229235958",
    status: "PartiallySucceeded",
    trigger: "Scheduled",
    startedAt: mtime,
    finishedAt: new Date(mtime.getTime() + 5000),
    toolVersion: "0.1.0",
    zip: { name: "shop_20240229235958.zip", sizeBytes: 123456 },
    contentBytes: 999,
    files: entries.length,
    origin: { run: "https://ci/run/1" },
    filter: { source: "site/wwwroot/_backup.filter", lines: ["\\site\\wwwroot\\cache"] },
    warnings: ["one warning"],
    databases: [],
    skipped: [{ name: "fs/locked & <odd>.txt", reason: "permission denied (EACCES)" }],
    entries,
  };
}

describe("the restore's manifest reader", () => {
  it("reads exactly what the project's XML parser reads, for every kind of name", () => {
    const manifest = manifestWith([
      entry("meta"),
      entry("fs/site/", { kind: "directory", size: 0, compressedSize: 0, method: "store", crc32: 0, mode: 0o40755 }),
      entry('fs/site/a & b <c> "d" \'e\'.txt'),
      entry("fs/site/naïve/über café — 日本語.txt"),
      entry("fs/site/tab\there"),
      entry("fs/site/new\nline"),
      entry("fs/site/bell\u0007byte"),
      entry("fs/site/link", { kind: "symlink", mode: 0o120777, method: "store", linkTarget: "../a & b/\u00e9" }),
      entry("fs/site/odd-link", { kind: "symlink", mode: 0o120777, method: "store", linkTarget: "bell\u0007" }),
      entry("fs/site/big.bin", { size: 5 * 1024 ** 3, compressedSize: 5 * 1024 ** 3 + 17, method: "store", crc32: 0, mode: 0o100600 }),
      entry("fs/site/&amp;literal.txt"),
    ]);
    const xml = manifestToXml(manifest);
    const quick = parseManifestQuickly(Buffer.from(xml), "m.xml");
    expect(quick).toEqual(parseManifest(xml, "m.xml"));
    expect(quick.entries.map((e) => e.name)).toEqual(manifest.entries.map((e) => e.name));
    expect(quick.entries[7]!.linkTarget).toBe("../a & b/\u00e9");
  });

  it("reads a manifest without entries", () => {
    const xml = manifestToXml({ ...manifestWith([]), status: "Failed", zip: undefined, error: "it failed" });
    expect(parseManifestQuickly(Buffer.from(xml), "m.xml")).toEqual(parseManifest(xml, "m.xml"));
  });

  it("refuses a truncated manifest and one whose entry count does not match", () => {
    const xml = manifestToXml(manifestWith([entry("meta"), entry("fs/a.txt")]));
    expect(() => parseManifestQuickly(Buffer.from(xml.slice(0, xml.indexOf("fs/a.txt"))), "m.xml")).toThrow(/damaged/);
    expect(() => parseManifestQuickly(Buffer.from(xml.replace('count="2"', 'count="3"')), "m.xml")).toThrow(/declares 3 entries but lists 2/);
  });
});
