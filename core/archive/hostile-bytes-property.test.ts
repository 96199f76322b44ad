import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferSource, readingInto } from "./random-access-source.js";
import { openZip } from "./zip-reader.js";
import { readZipIndex } from "./zip-index.js";
import { AppBackupError } from "../errors.js";
import { manifestToXml } from "../format/manifest-xml.js";
import { deflateEngine } from "./deflate-engine.js";
import { ExtractPool } from "./extract-pool.js";
import { extractEntries, type EntryFailure } from "./extract.js";
import { parseManifestChunks, parseManifestTable } from "../format/manifest-reader.js";
import { craftBackup, metaEntry, type CraftedEntry } from "../../test/support/crafted-backup.js";

/** Fixed by default so a run is repeatable; FC_SEED replays another (fast-check's failure report gives the seed and path). */
const seed = Number(process.env.FC_SEED ?? 20261206);

const entries: CraftedEntry[] = [
  metaEntry,
  { name: "fs/site/", mode: 0o40755, content: { bytes: Buffer.alloc(0) }, method: "store" },
  { name: "fs/site/index.html", mode: 0o100644, content: { bytes: Buffer.from("<h1>hello</h1>\n".repeat(40)) } },
  { name: "fs/site/zeros.bin", mode: 0o100600, content: { zeros: 3000 } },
  { name: "fs/site/raw.txt", mode: 0o100644, content: { bytes: Buffer.from("stored as is") }, method: "store" },
  { name: "fs/site/caf\u00e9 & <more>.txt", mode: 0o100644, content: { bytes: Buffer.from("odd name") } },
  { name: "fs/site/bell\u0007", mode: 0o100644, content: { bytes: Buffer.from("base64 name") } },
  { name: "fs/site/link", mode: 0o120777, content: { bytes: Buffer.from("index.html") }, method: "store" },
];

let zip: Buffer;
let manifest: Buffer;

beforeAll(async () => {
  const crafted = await craftBackup("shop_20240506070810", entries);
  zip = crafted.zip;
  manifest = Buffer.from(
    manifestToXml({ ...crafted.manifest, warnings: ["one & two"], skipped: [{ name: "fs/site/locked", reason: "permission denied (EACCES)" }] }),
  );
});

/** Values that sit at the edges of the fields they land in: counts, sizes, offsets, lengths. */
const edgeNumbers = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff];
/** Text that means something to the manifest's grammar. */
const edgeTexts = ["<", ">", '"', "&", "&amp;", "/>", "-1", "NaN", "1e309", "99999999999999999999", "<Entry ", "</Entries>", "<Entries count=\"9\">", "<!DOCTYPE x>", "..", "/", "\\", "\u0000", "\u00e9"];

type Mutation =
  | { kind: "set"; at: number; byte: number }
  | { kind: "number"; at: number; value: number; width: 2 | 4 }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "text"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "cut"; at: number };

/** Changes that keep every byte where it was: the central directory still finds each entry's data. */
const inPlaceMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("number" as const), at: fc.nat(), value: fc.constantFrom(...edgeNumbers), width: fc.constantFrom(2 as const, 4 as const) }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  inPlaceMutation,
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("text" as const), at: fc.nat(), text: fc.constantFrom(...edgeTexts) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
);

/** The original with the mutations applied, in order; positions fall within the first `span` bytes. */
function mutate(original: Buffer, mutations: Mutation[], span = Number.MAX_SAFE_INTEGER): Buffer {
  let bytes = Buffer.from(original);
  for (const m of mutations) {
    const at = bytes.length ? m.at % Math.min(span, bytes.length) : 0;
    if (m.kind === "set") bytes[at] = m.byte;
    else if (m.kind === "number") {
      if (at + m.width <= bytes.length) m.width === 2 ? bytes.writeUInt16LE(m.value & 0xffff, at) : bytes.writeUInt32LE(m.value, at);
    } else if (m.kind === "insert") bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else if (m.kind === "text") bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text), bytes.subarray(at)]);
    else if (m.kind === "delete") bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    else bytes = bytes.subarray(0, at);
  }
  return bytes;
}

/** What a parse came to: its result, or the message of the AppBackupError it ended in. Anything else is rethrown. */
function outcome<T>(parse: () => T): { value: T } | { refused: string } {
  try {
    return { value: parse() };
  } catch (error) {
    if (error instanceof AppBackupError) return { refused: error.message };
    throw error;
  }
}

async function asyncOutcome<T>(parse: () => Promise<T>): Promise<{ value: T } | { refused: string }> {
  try {
    return { value: await parse() };
  } catch (error) {
    if (error instanceof AppBackupError) return { refused: error.message };
    throw error;
  }
}

/** The cuts a store might deliver the bytes in. */
function pieces(bytes: Buffer, lengths: number[]): Buffer[] {
  const result: Buffer[] = [];
  let at = 0;
  for (const length of lengths) {
    if (at >= bytes.length) break;
    result.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (at < bytes.length) result.push(bytes.subarray(at));
  return result;
}

describe(`damaged bytes end in a clean parse or an AppBackupError, never another error (FC_SEED=${seed})`, () => {
  it("the manifest reader, whole and in pieces alike", () => {
    expect(parseManifestTable(manifest, "m.xml").table.count).toBe(entries.length);
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 30 }), (mutations, cuts) => {
        const bytes = mutate(manifest, mutations);
        const whole = outcome(() => parseManifestTable(bytes, "m.xml"));
        const chunked = outcome(() => parseManifestChunks(pieces(bytes, cuts), "m.xml"));
        if ("refused" in whole) {
          expect(whole.refused).toMatch(/nothing was changed/);
          expect(chunked).toEqual(whole);
        } else {
          expect("value" in chunked && [...chunked.value.table.names]).toEqual([...whole.value.table.names]);
          expect(whole.value.table.count).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { seed, numRuns: 400 },
    );
  });

  it("the zip index and reader", async () => {
    expect((await readZipIndex(bufferSource(zip))).table.count).toBe(entries.length);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const bytes = mutate(zip, mutations);
        const index = await asyncOutcome(() => readZipIndex(bufferSource(bytes)));
        if ("refused" in index) return;
        // A table is never larger than what the bytes could describe (a central record takes 46 bytes at the least).
        expect(index.value.table.count).toBeLessThanOrEqual(bytes.length / 46);
        const archive = await openZip(bufferSource(bytes));
        for (const entry of archive.entries) {
          // Read whole, as the zip reader's API offers: small inputs inflate to little, whatever the sizes declare.
          await asyncOutcome(() => archive.readEntry(entry));
        }
      }),
      { seed, numRuns: 300 },
    );
  });

  describe("extracting", () => {
    // Entries read whole are inflated by libdeflate where its binding is built, by zlib otherwise: both are attacked.
    const pools = { libdeflate: new ExtractPool(2, deflateEngine("libdeflate")), zlib: new ExtractPool(2, deflateEngine("zlib")) };
    afterAll(() => Promise.all(Object.values(pools).map((pool) => pool.close())));

    // A small archive is extracted on the main thread unless told otherwise: both paths run the same checks.
    it.each([
      ["worker threads", "libdeflate", 0],
      ["the main thread", "libdeflate", Number.MAX_SAFE_INTEGER],
      ["worker threads", "zlib", 0],
      ["the main thread", "zlib", Number.MAX_SAFE_INTEGER],
    ] as const)("reports every damaged entry as corrupt, and never fails otherwise (on %s, inflating with %s)", async (_, engine, mainThreadArchiveBytes) => {
      const pool = pools[engine];
      const { table: digests } = parseManifestTable(manifest, "m.xml");
      const dataEnd = (await readZipIndex(bufferSource(zip))).dataLimit;
      await fc.assert(
        fc.asyncProperty(fc.array(inPlaceMutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          // Local headers and data only, so that the index still reads and the damage reaches the workers.
          const bytes = mutate(zip, mutations, dataEnd);
          const index = await asyncOutcome(() => readZipIndex(bufferSource(bytes)));
          if ("refused" in index) return;
          const zipIndex = index.value;
          const byName = new Map([...digests.names].map((name, row) => [name, row]));
          const items = [...zipIndex.table.names].flatMap((name, zipRow) => {
            const digestRow = byName.get(name);
            if (digestRow === undefined || zipIndex.table.kinds[zipRow] === 1) return [];
            return [{ name, zipIndex: zipRow, digestIndex: digestRow, checkCrc: true, returnData: zipIndex.table.kinds[zipRow] === 2 }];
          });
          const corrupt: EntryFailure[] = [];
          const source = readingInto({
            size: bytes.length,
            local: true,
            readInto: async (target, offset, length) => void target.set(bytes.subarray(offset, offset + length)),
          });
          await extractEntries(source, zipIndex, items, { pool, digests, mainThreadArchiveBytes, onCorrupt: (failure) => corrupt.push(failure) });
          for (const failure of corrupt) expect(failure.corrupt).toBe(true);
        }),
        { seed, numRuns: 150 },
      );
    });
  });
});
