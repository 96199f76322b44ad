import { beforeAll, describe, expect, it } from "vitest";
import { bufferSource } from "./random-access-source.js";
import { encodeCentralHeader, encodeEndOfCentralDirectory, SIGNATURE, type CentralFields } from "./zip-format.js";
import { readZipIndex } from "./zip-index.js";
import { AppBackupError } from "../errors.js";
import { craftBackup, metaEntry } from "../../test/support/crafted-backup.js";
import { parseManifestTable } from "../format/manifest-reader.js";
import { manifestToXml } from "../format/manifest-xml.js";

let good: Buffer;
/** Where the end record and the central directory are in `good`. */
let eocd: number;
let directory: number;

beforeAll(async () => {
  ({ zip: good } = await craftBackup("good", [
    metaEntry,
    { name: "fs/site/a.txt", mode: 0o100644, content: { bytes: Buffer.from("hello ".repeat(100)) } },
    { name: "fs/site/b.bin", mode: 0o100644, content: { bytes: Buffer.from("stored") }, method: "store" },
  ]));
  eocd = good.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  directory = good.readUInt32LE(eocd + 16);
});

/** A copy of the good zip with `patch` applied. */
function patched(patch: (zip: Buffer) => void): Buffer {
  const copy = Buffer.from(good);
  patch(copy);
  return copy;
}

/** Reading the index fails with BACKUP_CORRUPT saying `what`, and that nothing was read or written; never another kind of error. */
async function expectRefused(zip: Buffer, what: RegExp) {
  let thrown: unknown;
  try {
    await readZipIndex(bufferSource(zip));
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "the zip was accepted").toBeInstanceOf(AppBackupError);
  const error = thrown as AppBackupError;
  expect(error.code).toBe("BACKUP_CORRUPT");
  expect(error.message).toMatch(what);
  expect(error.describe()).toMatch(/Nothing was read from the zip or written/);
}

/** The good zip with its end record replaced by a Zip64 record and locator whose fields `patch` may change. */
function withZip64End(patch: (record: Buffer) => void): Buffer {
  const size = eocd - directory;
  const end = encodeEndOfCentralDirectory(0xffff, directory, size);
  end.writeBigUInt64LE(3n, 24);
  end.writeBigUInt64LE(3n, 32);
  patch(end);
  return Buffer.concat([good.subarray(0, eocd), end]);
}

describe("a zip whose central directory lies is refused with a clear error", () => {
  it("reads the good zip these cases start from", async () => {
    const { table } = await readZipIndex(bufferSource(good));
    expect([...table.names]).toEqual(["meta", "fs/site/a.txt", "fs/site/b.bin"]);
    // The same zip with a Zip64 end record reads the same.
    expect([...(await readZipIndex(bufferSource(withZip64End(() => undefined)))).table.names]).toEqual([...table.names]);
  });

  it("a declared entry count the directory cannot hold", async () => {
    await expectRefused(
      patched((zip) => (zip.writeUInt16LE(0xfffe, eocd + 8), zip.writeUInt16LE(0xfffe, eocd + 10))),
      /claims 65534 entries, more than its \d+-byte central directory can hold/,
    );
  });

  it("a declared count of 0xFFFF without the Zip64 record it implies", async () => {
    await expectRefused(
      patched((zip) => zip.writeUInt16LE(0xffff, eocd + 10)),
      /needs Zip64 but the Zip64 locator is missing/,
    );
  });

  it("more entries in the directory than the end record declares", async () => {
    await expectRefused(
      patched((zip) => (zip.writeUInt16LE(2, eocd + 8), zip.writeUInt16LE(2, eocd + 10))),
      /holds more than the 2 entries its end record says/,
    );
  });

  it("a central directory offset out of range", async () => {
    await expectRefused(patched((zip) => zip.writeUInt32LE(0x7fffffff, eocd + 16)), /central directory extends past the end of the archive/);
  });

  it("a central directory size larger than the archive", async () => {
    await expectRefused(patched((zip) => zip.writeUInt32LE(0x7fffffff, eocd + 12)), /central directory extends past the end of the archive/);
  });

  it("a local header offset past the central directory", async () => {
    await expectRefused(patched((zip) => zip.writeUInt32LE(directory, directory + 42)), /local header of "meta" is said to be past the central directory/);
  });

  it("a name length that runs past the directory", async () => {
    const last = good.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    await expectRefused(patched((zip) => zip.writeUInt16LE(0xffff, last + 28)), /central directory entry 3 runs past the end of the directory/);
  });

  it("an extra field whose length runs past its record", async () => {
    // The first extra field of the first record (the extended timestamp) claims more bytes than the record has.
    const nameLength = good.readUInt16LE(directory + 28);
    await expectRefused(patched((zip) => zip.writeUInt16LE(0xfff0, directory + 46 + nameLength + 2)), /the extra field of "meta" is damaged/);
  });

  it("a 32-bit size that defers to a Zip64 field that is not there", async () => {
    await expectRefused(patched((zip) => zip.writeUInt32LE(0xffffffff, directory + 24)), /the Zip64 field of "meta" is missing, though its sizes or offset point to it/);
  });

  it("a Zip64 size field beyond what a double holds exactly", async () => {
    const fields: CentralFields = { name: "big", method: 0, crc32: 0, compressedSize: 0, size: 2 ** 33, mtime: new Date(0), streamed: false, mode: 0o100644, localHeaderOffset: 0 };
    const header = encodeCentralHeader(fields);
    const zip64At = header.indexOf(Buffer.from([0x01, 0x00, 0x08, 0x00]), 46 + 3);
    header.writeBigUInt64LE(2n ** 63n, zip64At + 4);
    const local = Buffer.alloc(30 + 3);
    local.writeUInt32LE(SIGNATURE.localHeader, 0);
    const zip = Buffer.concat([local, header, encodeEndOfCentralDirectory(1, local.length, header.length)]);
    await expectRefused(zip, /the uncompressed size is out of range/);
  });

  it("a Zip64 entry count beyond what a double holds, or beyond what the directory can hold", async () => {
    await expectRefused(
      withZip64End((record) => record.writeBigUInt64LE(2n ** 60n, 32)),
      /the entry count is out of range/,
    );
    await expectRefused(
      withZip64End((record) => record.writeBigUInt64LE(2n ** 40n, 32)),
      /claims 1099511627776 entries, more than its \d+-byte central directory can hold/,
    );
  });

  it("a Zip64 locator that points past itself, or at something else", async () => {
    const locator = 56;
    await expectRefused(withZip64End((record) => record.writeBigUInt64LE(2n ** 40n, locator + 8)), /locator points past itself/);
    await expectRefused(withZip64End((record) => record.writeBigUInt64LE(0n, locator + 8)), /Zip64 end-of-central-directory record is missing/);
  });

  it("a Zip64 directory offset out of range", async () => {
    await expectRefused(withZip64End((record) => record.writeBigUInt64LE(2n ** 50n, 48)), /central directory extends past the end of the archive/);
  });

  it("bytes that are not a zip, and a zip cut short", async () => {
    await expectRefused(Buffer.from("tiny"), /too short to be a zip/);
    await expectRefused(Buffer.alloc(5000, 0x41), /no end-of-central-directory record/);
    await expectRefused(good.subarray(0, good.length - 30), /no end-of-central-directory record/);
  });
});

describe("a backup's zip read against its manifest", () => {
  it("holds no names, sizes, kinds, modes or checksums of its own when the two agree, and reads the same values", async () => {
    const { manifest } = await craftBackup("good", [
      metaEntry,
      { name: "fs/site/a.txt", mode: 0o100644, content: { bytes: Buffer.from("hello ".repeat(100)) } },
      { name: "fs/site/b.bin", mode: 0o100644, content: { bytes: Buffer.from("stored") }, method: "store" },
    ]);
    const { table: entries } = parseManifestTable(Buffer.from(manifestToXml(manifest)), "good.xml");
    const alone = (await readZipIndex(bufferSource(good))).table;
    const { table } = await readZipIndex(bufferSource(good), { sameAs: entries });
    expect(table.names).toBe(entries.names);
    expect(table.sharedColumns.sort()).toEqual(["compressedSizes", "crc32s", "kinds", "methods", "modes", "sizes"]);
    for (let row = 0; row < table.count; row++) {
      expect({ ...table.entry(row), mtime: undefined }).toEqual({ ...alone.entry(row), mtime: undefined });
      expect(table.offsets[row]).toBe(alone.offsets[row]);
    }
  });

  it("keeps its own values where an entry differs from the manifest's, and the manifest's stay as they were", async () => {
    const { manifest } = await craftBackup("good", [
      metaEntry,
      { name: "fs/site/a.txt", mode: 0o100644, content: { bytes: Buffer.from("hello ".repeat(100)) } },
      { name: "fs/site/b.bin", mode: 0o100644, content: { bytes: Buffer.from("stored") }, method: "store" },
    ]);
    manifest.entries[1]!.size += 1;
    manifest.entries[2]!.crc32 ^= 1;
    const { table: entries } = parseManifestTable(Buffer.from(manifestToXml(manifest)), "good.xml");
    const alone = (await readZipIndex(bufferSource(good))).table;
    const { table } = await readZipIndex(bufferSource(good), { sameAs: entries });
    expect(table.sharedColumns).not.toContain("sizes");
    expect(table.sharedColumns).not.toContain("crc32s");
    expect(Array.from(table.sizes.subarray(0, 3))).toEqual(Array.from(alone.sizes.subarray(0, 3)));
    expect(Array.from(table.crc32s.subarray(0, 3))).toEqual(Array.from(alone.crc32s.subarray(0, 3)));
    expect(entries.sizes[1]).toBe(alone.sizes[1]! + 1);
    expect(entries.crc32s[2]).toBe((alone.crc32s[2]! ^ 1) >>> 0);
  });

  it("keeps no modification times unless asked for them (a restore sets the manifest's)", async () => {
    expect((await readZipIndex(bufferSource(good))).table.mtimeRows).toBe(0);
    const { table } = await readZipIndex(bufferSource(good), { times: true });
    expect(table.entry(1).mtime.getTime()).not.toBeNaN();
  });
});
