import { describe, expect, it } from "vitest";
import type { BackupManifest } from "./manifest.js";
import { manifestToXml } from "./manifest-xml.js";
import { parseManifest, summaryFromHead } from "./manifest-xml-parse.js";

const manifest: BackupManifest = {
  formatVersion: 1,
  appName: "contoso",
  backupName: "contoso_20260102030405",
  status: "PartiallySucceeded",
  trigger: "Scheduled",
  startedAt: new Date("2026-01-02T03:04:05.123Z"),
  finishedAt: new Date("2026-01-02T03:05:00.000Z"),
  toolVersion: "0.1.0",
  zip: { name: "contoso_20260102030405.zip", sizeBytes: 1234 },
  contentBytes: 5678,
  files: 2,
  origin: { repository: "org/app", sha: "abc" },
  filter: { source: "/h/site/wwwroot/_backup.filter", lines: ["\\site\\wwwroot\\cache", "**/*.tmp"] },
  warnings: ["Filter line \"x\" matches nothing <&>"],
  databases: [
    {
      connectionStringName: "MainDb",
      databaseType: "PostgreSql",
      entry: "MainDb.sql",
      engine: "postgresql",
      serverVersion: "15.18",
      database: "main",
      consistency: "REPEATABLE READ READ ONLY transaction",
      sizeBytes: 99,
      sha256: "ab".repeat(32),
      tables: [{ name: "public.orders", rows: 3 }],
      notCovered: [],
      warnings: [],
    },
  ],
  skipped: [{ name: "fs/site/locked.txt", reason: "permission denied (EACCES)" }],
  entries: [
    { name: "meta", kind: "file", size: 10, compressedSize: 8, method: "deflate", crc32: 0xdeadbeef, sha256: "cd".repeat(32), mtime: new Date("2026-01-02T03:04:05.123Z"), mode: 0o100644 },
    { name: "fs/site/", kind: "directory", size: 0, compressedSize: 0, method: "store", crc32: 0, sha256: "ef".repeat(32), mtime: new Date("2025-12-31T00:00:00Z"), mode: 0o40755 },
    { name: "fs/site/l", kind: "symlink", size: 4, compressedSize: 4, method: "store", crc32: 1, sha256: "01".repeat(32), mtime: new Date(0), mode: 0o120777, linkTarget: "/etc" },
    { name: "fs/odd\u0001name \"&<>\" 😀", kind: "file", size: 1, compressedSize: 1, method: "store", crc32: 2, sha256: "02".repeat(32), mtime: new Date(0), mode: 0o100600 },
  ],
};

describe("manifest XML", () => {
  it("round-trips every field, including names XML cannot hold as text", () => {
    const xml = manifestToXml(manifest);
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
    expect(parseManifest(xml, "test.xml")).toEqual(manifest);
  });

  it("reads the summary from the head alone, the entry list coming last", () => {
    const xml = manifestToXml(manifest);
    const head = xml.slice(0, xml.indexOf("<Entries") + 60);
    const summary = summaryFromHead(head, "test.xml");
    const { entries: _entries, ...expected } = manifest;
    expect(summary).toEqual(expected);
  });

  it("rejects a document that is not a manifest", () => {
    expect(() => parseManifest("<Other/>", "x.xml")).toThrow(/not an app-backup manifest/);
  });
});
