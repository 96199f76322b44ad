/**
 * The archive worker: reads files, checksums them and deflates them into the
 * shared-memory slots the main thread assigns (the protocol is in
 * deflate-protocol.ts). It runs at load, against `workerData`, so nothing
 * imports it: scripts/build-workers.mjs compiles it into the string that
 * deflate-worker-source.ts exports, which the pool starts with `eval: true`.
 * Node built-ins only, as the compiled string must stand alone.
 */
import { createHash } from "node:crypto";
import { closeSync, readSync } from "node:fs";
import { parentPort, workerData, type TransferListItem } from "node:worker_threads";
import { constants as zlibConstants, crc32 as zlibCrc32, deflateRawSync, type ZlibOptions } from "node:zlib";
import { deflateBlock, type BlockRequest } from "./block-deflate-job.js";
import type { BatchReply, BatchRequest, DeflateReply, DeflateRequest, DeflateWorkerData, LargeRequest } from "./deflate-protocol.js";
import { deflateFileBatch, describe, onAllocation, openRegularFile, saves } from "./file-batch.js";

const data = workerData as DeflateWorkerData;
const port = parentPort!;
const MIN_SAVING = data.minSaving;
const SAMPLE_SIZE = data.sampleSize;
const SLOT_SIZE = data.slotSize;
const SLOT_MEMORY = new Uint8Array(data.slotMemory);
const WINDOW = 32 * 1024;

const collectGarbage = typeof globalThis.gc === "function" ? () => globalThis.gc!({ type: "minor" }) : () => {};
/** Young-generation collections after this many bytes of deflate output, which V8 alone would let pile up. */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;
let allocatedSinceCollect = 0;
function allocated(bytes: number): void {
  allocatedSinceCollect += bytes;
  if (allocatedSinceCollect >= COLLECT_EVERY_BYTES) {
    allocatedSinceCollect = 0;
    collectGarbage();
  }
}
onAllocation(allocated);

type Job = BatchRequest | LargeRequest | BlockRequest;
const queue: Job[] = [];
let running = false;
const creditCount = new Map<number, number>();
const creditWaiter = new Map<number, () => void>();

function send(message: DeflateReply, transfer: TransferListItem[] = []): void {
  port.postMessage(message, transfer);
}

port.on("message", (message: DeflateRequest) => {
  if (message.type === "credit") {
    const waiter = creditWaiter.get(message.id);
    if (waiter) {
      creditWaiter.delete(message.id);
      waiter();
    } else {
      creditCount.set(message.id, (creditCount.get(message.id) || 0) + 1);
    }
    return;
  }
  queue.push(message);
  if (!running) void run();
});

async function run(): Promise<void> {
  running = true;
  while (queue.length > 0) {
    const job = queue.shift()!;
    try {
      if (job.type === "batch") runBatch(job);
      else if (job.type === "block") runBlock(job);
      else await runLarge(job);
    } catch (error) {
      send({ type: "failed", id: job.id, message: describe(error) });
    }
  }
  running = false;
}

function slotView(slot: number): Uint8Array {
  return SLOT_MEMORY.subarray(slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE);
}

function readChunk(fd: number, buffer: Buffer, position: number, wanted: number): number {
  let length = 0;
  while (length < wanted) {
    const read = readSync(fd, buffer, length, wanted - length, position + length);
    if (read === 0) break;
    length += read;
  }
  return length;
}

function runBatch(job: BatchRequest): void {
  const { message, transfer } = deflateFileBatch(job, slotView(job.slots[0]!), MIN_SAVING);
  send((message.data ? message : { ...message, slot: job.slots[0]! }) as BatchReply, transfer);
}

function runBlock(job: BlockRequest): void {
  const { reply, transfer, allocated: bytes } = deflateBlock(job, slotView(job.slots[0]!));
  allocated(bytes);
  send(reply, transfer);
}

function takeCredit(id: number): Promise<void> | undefined {
  const available = creditCount.get(id) || 0;
  if (available > 0) {
    creditCount.set(id, available - 1);
    return undefined;
  }
  return new Promise((resolve) => creditWaiter.set(id, resolve));
}

/**
 * Large files: read in chunks; each chunk is deflated on its own with the
 * previous 32 KiB as dictionary and ends with a sync flush, so the chunks
 * concatenate into one deflate stream (as pigz does) while memory stays at a
 * few chunks. The method is chosen from a sample of the first chunk.
 */
async function runLarge(job: LargeRequest): Promise<void> {
  const opened = openRegularFile(job.path);
  if (opened.reason !== undefined) {
    send({ type: "largeEnd", id: job.id, reason: opened.reason });
    return;
  }
  // Every slot of the job starts free.
  creditCount.set(job.id, job.slots.length);
  const buffer = Buffer.allocUnsafeSlow(job.chunkSize);
  const digest = createHash("sha256");
  let crc32 = 0;
  let size = 0;
  let method = job.store ? 0 : -1;
  let dictionary: Buffer | undefined = undefined;
  let chunks = 0;
  try {
    for (;;) {
      let length: number;
      try {
        // Up to the size at open, like small files: a file still being appended to gives a consistent prefix.
        length = readChunk(opened.fd, buffer, size, Math.min(buffer.length, opened.size - size));
      } catch (error) {
        if (chunks === 0) {
          send({ type: "largeEnd", id: job.id, reason: describe(error) });
          return;
        }
        throw error;
      }
      if (length === 0) break;
      const content = buffer.subarray(0, length);
      size += length;
      crc32 = zlibCrc32(content, crc32);
      digest.update(content);
      if (method === -1) {
        const sample = content.subarray(0, SAMPLE_SIZE);
        method = saves(deflateRawSync(sample, { level: 1 }).length, sample.length, MIN_SAVING) ? 8 : 0;
      }
      let output = content;
      if (method === 8) {
        const options: ZlibOptions = { level: job.level, finishFlush: zlibConstants.Z_SYNC_FLUSH };
        if (dictionary) options.dictionary = dictionary;
        output = deflateRawSync(content, options);
        allocated(output.length);
        dictionary = Buffer.from(content.subarray(Math.max(0, length - WINDOW)));
      }
      const waiting = takeCredit(job.id);
      if (waiting) await waiting;
      const slot = job.slots[chunks % job.slots.length]!;
      slotView(slot).set(output, 0);
      send({ type: "chunk", id: job.id, method, slot, length: output.length, read: length });
      chunks++;
    }
    if (method === -1) method = 0;
    send({ type: "largeEnd", id: job.id, size, crc32, sha256: digest.digest(), method, finalBlock: method === 8 });
  } finally {
    closeSync(opened.fd);
    creditCount.delete(job.id);
    creditWaiter.delete(job.id);
  }
}
