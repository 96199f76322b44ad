import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ArchiveEntry } from "../archive/types.js";
import { AppBackupError } from "../errors.js";
import { LocalStore } from "../store/local.js";
import type { BackupManifest } from "./manifest.js";
import { parseManifestChunks, parseManifestTable, readManifestTable } from "./manifest-reader.js";
import { manifestToXml } from "./manifest-xml.js";

const mtime = new Date("2024-02-29T23:59:58.123Z");

function entry(name: string, extra: Partial<ArchiveEntry> = {}): ArchiveEntry {
  return { name, kind: "file", size: 12, compressedSize: 10, method: "deflate", crc32: 0xdeadbeef, sha256: "ab".repeat(32), mtime, mode: 0o100644, ...extra };
}

function manifestWith(entries: ArchiveEntry[], skipped: BackupManifest["skipped"] = []): BackupManifest {
  return {
    formatVersion: 1,
    appName: "shop",
    backupName: "shop_20240229235958",
    status: "Succeeded",
    trigger: "OnDemand",
    startedAt: mtime,
    finishedAt: mtime,
    toolVersion: "0.1.0",
    zip: { name: "shop_20240229235958.zip", sizeBytes: 123456 },
    contentBytes: 999,
    files: entries.length,
    origin: {},
    filter: { source: "", lines: [] },
    warnings: ["a warning"],
    databases: [],
    skipped,
    entries,
  };
}

const valid = manifestToXml(
  manifestWith([
    entry("meta"),
    entry("fs/site/", { kind: "directory", size: 0, compressedSize: 0, method: "store", crc32: 0, mode: 0o40755 }),
    entry("fs/site/a.txt"),
    entry("fs/site/link", { kind: "symlink", mode: 0o120777, method: "store", linkTarget: "a.txt" }),
  ]),
);
const line = (name: string) => valid.split("\n").find((l) => l.includes(`name="${name}"`))!;

/** The manifest is refused with BACKUP_CORRUPT saying `what`, and that nothing was changed; never another kind of error. */
function expectRefused(xml: string | Buffer, what: RegExp) {
  let thrown: unknown;
  try {
    parseManifestTable(Buffer.from(xml), "m.xml");
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "the manifest was accepted").toBeInstanceOf(AppBackupError);
  const error = thrown as AppBackupError;
  expect(error.code).toBe("BACKUP_CORRUPT");
  expect(error.message).toMatch(what);
  expect(error.message).toMatch(/nothing was changed/);
}

describe("a hostile manifest is refused with a clear error", () => {
  it("reads the valid manifest these cases start from", () => {
    const { table } = parseManifestTable(Buffer.from(valid), "m.xml");
    expect([...table.names]).toEqual(["meta", "fs/site/", "fs/site/a.txt", "fs/site/link"]);
  });

  it.each([
    ["in its head", valid.indexOf("<Warnings"), /not valid XML/],
    ["in the entry list's opening tag", valid.indexOf('count="4"') + 3, /entry list is not closed/],
    ["inside an entry", valid.indexOf('name="fs/site/a.txt"') + 12, /entry list is not closed/],
    ["after the entry list", valid.indexOf("</Entries>") + "</Entries>".length, /not followed by the end of the manifest/],
  ])("truncated %s", (_, at, what) => {
    expectRefused(valid.slice(0, at), what);
  });

  it.each([
    ["the entry list inside another element", valid.replace("  <Entries", "  <Skipped>\n  <Entries"), /not valid XML/],
    ["another element among the entries", valid.replace(line("fs/site/a.txt"), `    <Other/>\n${line("fs/site/a.txt")}`), /<Other\/>.*where only entries belong/],
    ["an entry list inside the entry list", valid.replace(line("meta"), `    <Entries count="0"></Entries>\n${line("meta")}`), /where only entries belong/],
    ["an entry with content", valid.replace(line("meta"), line("meta").replace("/>", "><Entry/></Entry>")), /entry 1 is malformed/],
    ["text among the entries", valid.replace(line("meta"), `text${line("meta")}`), /holds text after entry 0/],
    ["content after the entry list", valid.replace("</BackupManifest>", "</BackupManifest><BackupManifest/>"), /content after its entries/],
    ["a comment among the entries", valid.replace(line("meta"), `    <!-- hidden -->\n${line("meta")}`), /where only entries belong/],
  ])("wrong nesting: %s", (_, xml, what) => {
    expectRefused(xml, what);
  });

  it("an attribute value of megabytes, whole or in small pieces", () => {
    const xml = Buffer.from(valid.replace('name="fs/site/a.txt"', `name="fs/site/${"a".repeat(2 * 1024 * 1024)}"`));
    expectRefused(xml, /entry 3 is longer than 1 MB/);
    const pieces = Array.from({ length: Math.ceil(xml.length / 512) }, (_, i) => xml.subarray(i * 512, i * 512 + 512));
    expect(() => parseManifestChunks(pieces, "m.xml")).toThrow(/entry 3 is longer than 1 MB/);
  });

  it.each([
    ["a negative size", 'size="-12"', /entry 3 \("fs\/site\/a.txt"\) has no valid size/],
    ["a size that is not a number", 'size="NaN"', /has no valid size/],
    ["a size in exponent notation", 'size="1e3"', /has no valid size/],
    ["a size beyond what a double holds exactly", 'size="99999999999999999999"', /has no valid size/],
    ["an empty size", 'size=""', /has no valid size/],
    ["a negative compressed size", 'compressedSize="-10"', /has no valid compressed size/],
    ["a CRC-32 that is not hex", 'crc32="xyz"', /has no valid CRC-32/],
    ["a mode that is not octal", 'mode="999"', /has no valid mode/],
    ["a mode wider than 16 bits", 'mode="7777777"', /has no valid mode/],
    ["a time that is not one", 'mtime="yesterday"', /has no valid modification time/],
    ["an unknown kind", 'kind="device"', /is of unknown kind "device"/],
    ["an unknown compression method", 'method="bzip2"', /has unknown compression method "bzip2"/],
    ["a malformed SHA-256", `sha256="${"zz".repeat(32)}"`, /SHA-256 that is not 64 hex digits/],
  ])("an entry with %s", (_, attribute, what) => {
    const [key] = attribute.split("=");
    const original = line("fs/site/a.txt");
    expectRefused(valid.replace(original, original.replace(new RegExp(`${key}="[^"]*"`), attribute)), what);
  });

  it("an entry with an attribute given twice", () => {
    const original = line("fs/site/a.txt");
    expectRefused(valid.replace(original, original.replace('size="12"', 'size="12" size="13"')), /entry 3 has its size attribute twice/);
  });

  it.each([
    ["a negative count", 'count="-1"', /declares "-1" entries, which is not a count/],
    ["a count that is not a number", 'count="NaN"', /declares "NaN" entries, which is not a count/],
    ["a count beyond what a double holds exactly", 'count="99999999999999999999"', /which is not a count/],
    ["no count", "", /does not say how many entries it has/],
  ])("an entry list with %s", (_, count, what) => {
    expectRefused(valid.replace('count="4"', count), what);
  });

  it("a declared count of billions is a claim checked against the entries, never a size to allocate", () => {
    expectRefused(valid.replace('count="4"', 'count="4000000000"'), /declares 4000000000 entries but lists 4/);
    expectRefused(valid.replace('count="4"', 'count="9007199254740991"'), /declares 9007199254740991 entries but lists 4/);
    expectRefused(valid.replace('count="4"', 'count="2"'), /declares 2 entries but lists more/);
  });

  it.each([
    ["a negative content size", "<ContentSizeInBytes>999</ContentSizeInBytes>", "<ContentSizeInBytes>-5</ContentSizeInBytes>", /content size is "-5"/],
    ["a file count that is not a number", "<FileCount>4</FileCount>", "<FileCount>NaN</FileCount>", /file count is "NaN"/],
    ["a huge zip size", 'sizeBytes="123456"', `sizeBytes="1${"0".repeat(400)}"`, /zip size is "10{39}…"/],
    ["an unknown status", "<Status>Succeeded</Status>", "<Status>Hacked</Status>", /status "Hacked" is not one app-backup writes/],
  ])("a summary with %s", (_, from, to, what) => {
    expectRefused(valid.replace(from, to), what);
  });

  it("an entry listed twice", () => {
    expectRefused(valid.replace('count="4"', 'count="5"').replace(line("fs/site/a.txt"), `${line("fs/site/a.txt")}\n${line("fs/site/a.txt")}`), /lists "fs\/site\/a.txt" twice/);
  });

  it.each([
    ["escaping with ..", 'name="fs/../../etc/cron.d/x"', /escapes the target folder with \.\./],
    ["an absolute path", 'name="/etc/passwd"', /absolute path/],
    ["escaping with backslashes", 'name="fs\\..\\..\\x"', /escapes the target folder with \.\./],
    ["a NUL character", `name64="${Buffer.from("fs/site/a\u0000.txt").toString("base64")}"`, /NUL character/],
    ["no characters", 'name=""', /the name is empty/],
  ])("an entry whose name has %s", (_, attribute, what) => {
    expectRefused(valid.replace('name="fs/site/a.txt"', attribute), new RegExp(`entry 3 .*has an unsafe name: .*${what.source}`));
  });

  it("entities: a DOCTYPE that defines them (expanding or not) is refused unread", () => {
    const laughs = Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("");
    const doctype = `<!DOCTYPE BackupManifest [<!ENTITY l0 "lol">${laughs}]>`;
    expectRefused(valid.replace("<BackupManifest", `${doctype}\n<BackupManifest`).replace("<AppName>shop</AppName>", "<AppName>&l10;</AppName>"), /declaration \(<!…\) that app-backup never writes/);
    expectRefused(valid.replace('name="fs/site/a.txt"', 'name="fs/site/&l10;"').replace("<BackupManifest", `${doctype}\n<BackupManifest`), /declaration/);
  });

  it("entities: only the predefined ones are decoded, and only once", () => {
    const xml = valid.replace('name="fs/site/a.txt"', 'name="fs/site/&amp;lt;&#47;&unknown;.txt"');
    expect(parseManifestTable(Buffer.from(xml), "m.xml").table.name(2)).toBe("fs/site/&lt;&#47;&unknown;.txt");
  });
});

/** A local container that hands out each object in small pieces, as a slow network connection does. */
class SmallPieceStore extends LocalStore {
  constructor(
    root: string,
    private readonly pieceBytes: number,
  ) {
    super(root);
  }

  override async read(name: string, range?: { offset: number; length: number }): Promise<Readable> {
    const whole = await super.read(name, range);
    const pieceBytes = this.pieceBytes;
    return Readable.from(
      (async function* () {
        for await (const chunk of whole) {
          for (let at = 0; at < (chunk as Buffer).length; at += pieceBytes) yield (chunk as Buffer).subarray(at, at + pieceBytes);
        }
      })(),
    );
  }
}

describe("reading a manifest is linear in its bytes", () => {
  it("reads a manifest with 150,000 skipped files delivered in 512-byte pieces", async () => {
    const skipped = Array.from({ length: 150_000 }, (_, i) => ({ name: `fs/site/locked/file-${i}.txt`, reason: "permission denied (EACCES)" }));
    const manifest = manifestWith([entry("meta"), entry("fs/site/a.txt")], skipped);
    const folder = await mkdtemp(path.join(os.tmpdir(), "manifest-linear-"));
    await writeFile(path.join(folder, "shop_20240229235958.xml"), manifestToXml(manifest));

    // 12 MB in 512-byte pieces: 23,000 pieces, each re-searched or re-copied whole would be 140 GB of work.
    const { summary, table } = await readManifestTable(new SmallPieceStore(folder, 512), "shop_20240229235958");
    expect(summary.skipped).toHaveLength(150_000);
    expect(summary.skipped[149_999]).toEqual(skipped[149_999]);
    expect([...table.names]).toEqual(["meta", "fs/site/a.txt"]);
  });
});
