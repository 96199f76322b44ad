import { randomBytes } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { BlockDeflater, type BlockJobs } from "./block-deflate.js";
import { deflateEngine } from "./deflate-engine.js";
import { JobScheduler } from "./job-scheduler.js";
import { PendingEntries } from "./pending-entries.js";

const seed = Number(process.env.FC_SEED ?? 20261206);
const BLOCK = 4096;

const failures: Error[] = [];
const scheduler = new JobScheduler(new PendingEntries(), { level: 6, workers: 2, engine: deflateEngine(), onFailure: (error) => failures.push(error) });
afterAll(() => scheduler.close());
let blocksOnWorkers = 0;
const workerJobs: BlockJobs = {
  submitBlock: (request, handler) => {
    const ticket = scheduler.submitBlock(request, handler);
    if (ticket) blocksOnWorkers++;
    return ticket;
  },
  slotBytes: (ticket, message) => scheduler.slotBytes(ticket, message),
  slotDone: (ticket) => scheduler.slotDone(ticket),
};

/** Text that deflates well, with matches reaching back across block boundaries. */
function compressible(size: number, salt: number): Buffer {
  let text = "";
  for (let row = salt; text.length < size; row++) text += `${row}\tcustomer ${row % 97}\t{"page": "/p/${row % 13}", "ok": ${row % 3 === 0}}\n`;
  return Buffer.from(text.slice(0, size));
}

async function deflateInBlocks(data: Buffer, pieces: number[], jobs: BlockJobs, blocksInFlight = 3): Promise<Buffer> {
  const output: Buffer[] = [];
  const deflater = new BlockDeflater({ level: 6, blockSize: BLOCK, blocksInFlight, jobs, name: "dump.sql" }, async (bytes) => {
    // Copied, as the zip output does before the slot is handed back.
    output.push(Buffer.from(bytes));
  });
  let at = 0;
  for (const piece of pieces) {
    if (at >= data.length) break;
    await deflater.write(data.subarray(at, at + piece));
    at += piece;
  }
  if (at < data.length) await deflater.write(data.subarray(at));
  await deflater.end();
  return Buffer.concat(output);
}

describe("BlockDeflater", () => {
  it("joins blocks deflated on the workers into one deflate stream of exactly the input", async () => {
    const edges = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 7 * BLOCK + 5, 40 * BLOCK + 123];
    const size = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: 50 * BLOCK }));
    await fc.assert(
      fc.asyncProperty(size, fc.boolean(), fc.array(fc.integer({ min: 1, max: 3 * BLOCK }), { minLength: 1, maxLength: 20 }), async (length, text, pieces) => {
        const data = text ? compressible(length, length) : randomBytes(length);
        const deflated = await deflateInBlocks(data, pieces, workerJobs);
        expect(inflateRawSync(deflated).equals(data)).toBe(true);
        // The dictionary carries matches across blocks: text still compresses as a whole.
        if (text && length > 8 * BLOCK) expect(deflated.length).toBeLessThan(length / 3);
      }),
      { seed, numRuns: 40 },
    );
    expect(failures).toEqual([]);
    expect(blocksOnWorkers).toBeGreaterThan(100);
  });

  it("deflates a block on the main thread when no worker takes it", async () => {
    const noFreeSlot: BlockJobs = {
      submitBlock: () => undefined,
      slotBytes: () => {
        throw new Error("no block went to a worker");
      },
      slotDone: () => {},
    };
    const data = compressible(10 * BLOCK + 17, 3);
    expect(inflateRawSync(await deflateInBlocks(data, [BLOCK + 3], noFreeSlot)).equals(data)).toBe(true);
  });

  it("fails writes once aborted, and stops waiting for blocks in flight", async () => {
    const neverAnswers: BlockJobs = {
      submitBlock: () => ({ id: 0, slots: [0] }) as never,
      slotBytes: () => Buffer.alloc(0),
      slotDone: () => {},
    };
    const deflater = new BlockDeflater({ level: 6, blockSize: BLOCK, blocksInFlight: 2, jobs: neverAnswers, name: "dump.sql" }, async () => {});
    const writing = deflater.write(randomBytes(5 * BLOCK));
    setImmediate(() => deflater.abort(new Error("the archive failed")));
    await expect(writing).rejects.toThrow("the archive failed");
    await expect(deflater.write(Buffer.from("more"))).rejects.toThrow("the archive failed");
  });
});
