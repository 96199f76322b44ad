import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openDescriptors, tempFolders } from "../../test/support/spool-checks.js";
import { RecordSpool } from "./record-spool.js";

const folder = tempFolders();
const tempFolder = () => folder("spool-");

function putText(target: Buffer, at: number, text: string): number {
  return at + target.write(text, at, "utf8");
}

function append(spool: RecordSpool, text: string): void {
  spool.append(Buffer.byteLength(text), putText, text);
}

function readAll(spool: RecordSpool): string[] {
  return Array.from(spool.records(), (record) => record.toString("utf8"));
}

describe("RecordSpool", () => {
  it("keeps records in memory under its threshold, and writes nothing to its folder", () => {
    const directory = tempFolder();
    const spool = new RecordSpool({ memoryBytes: 1024 * 1024, directory });
    const records = Array.from({ length: 1000 }, (_, i) => `record ${i} ${"x".repeat(i % 50)}`);
    for (const record of records) append(spool, record);
    expect(spool.spilled).toBe(false);
    expect(readAll(spool)).toEqual(records);
    expect(readdirSync(directory)).toEqual([]);
    spool.close();
  });

  it("reads back, in order and as often as asked, records that went past a tiny threshold into its temp file", () => {
    const directory = tempFolder();
    const before = openDescriptors();
    const spool = new RecordSpool({ memoryBytes: 100, directory });
    // Records of every size, a few larger than the spool's 1 MiB buffers, so some straddle its reads.
    const records = Array.from({ length: 5000 }, (_, i) => (i % 997 === 0 ? `big ${i} ${"é".repeat(700_000)}` : `r${i}:${"ab".repeat(i % 300)}`));
    records.push("");
    for (const record of records) append(spool, record);
    expect(spool.spilled).toBe(true);
    expect(spool.count).toBe(records.length);
    // Unlinked as soon as it was opened: nothing in the folder even while the spool is in use.
    expect(readdirSync(directory)).toEqual([]);
    expect(openDescriptors()).toBe(before + 1);
    expect(readAll(spool)).toEqual(records);
    append(spool, "one more");
    expect(readAll(spool)).toEqual([...records, "one more"]);
    spool.close();
    expect(openDescriptors()).toBe(before);
    expect(() => readAll(spool)).toThrow(/closed/);
    expect(() => append(spool, "late")).toThrow(/closed/);
    spool.close();
  });

  it("lets go of its temp file when a reader stops part way and the spool is closed", () => {
    const before = openDescriptors();
    const spool = new RecordSpool({ memoryBytes: 0, directory: tempFolder() });
    for (let i = 0; i < 100_000; i++) append(spool, `entry ${i}`);
    const reading = spool.records();
    expect(reading.next().value!.toString()).toBe("entry 0");
    spool.close();
    expect(openDescriptors()).toBe(before);
  });
});
