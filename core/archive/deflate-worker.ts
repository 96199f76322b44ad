/**
 * The archive worker: reads files, checksums them and deflates them into the
 * shared-memory slots the main thread assigns (the protocol is in
 * deflate-protocol.ts). It runs at load, against `workerData`, so nothing
 * imports it: scripts/build-workers.mjs compiles it into the string that
 * deflate-worker-source.ts exports, which the pool starts with `eval: true`.
 * Node built-ins only, as the compiled string must stand alone.
 */
import { parentPort, workerData, type TransferListItem } from "node:worker_threads";
import { deflateBlock, type BlockRequest } from "./block-deflate-job.js";
import type { BatchReply, BatchRequest, DeflateReply, DeflateRequest, DeflateWorkerData } from "./deflate-protocol.js";
import { bytesInSlot, deflateFileBatch, describe, onAllocation } from "./file-batch.js";
import { libdeflateForWorker } from "./libdeflate-binding.js";

const data = workerData as DeflateWorkerData;
const port = parentPort!;
const MIN_SAVING = data.minSaving;
const SLOT_SIZE = data.slotSize;
const SLOT_MEMORY = new Uint8Array(data.slotMemory);
const LIBDEFLATE = libdeflateForWorker(data.libdeflateFile);

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

function send(message: DeflateReply, transfer: TransferListItem[] = []): void {
  port.postMessage(message, transfer);
}

// Every job runs to its end before the next message is taken: the jobs queue in the port.
port.on("message", (job: DeflateRequest) => {
  try {
    if (job.type === "batch") runBatch(job);
    else runBlock(job);
  } catch (error) {
    send({ type: "failed", id: job.id, message: describe(error) });
  }
});

function slotView(slot: number): Uint8Array {
  return SLOT_MEMORY.subarray(slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE);
}

function runBatch(job: BatchRequest): void {
  const read = job.inputs ? bytesInSlot(slotView(job.slots[1]!), job.sizes) : undefined;
  const { message, transfer } = deflateFileBatch(job, slotView(job.slots[0]!), MIN_SAVING, read, LIBDEFLATE);
  send((message.data ? message : { ...message, slot: job.slots[0]! }) as BatchReply, transfer);
}

function runBlock(job: BlockRequest): void {
  const { reply, transfer, allocated: bytes } = deflateBlock(job, job.slots.length > 0 ? slotView(job.slots[0]!) : undefined);
  allocated(bytes);
  try {
    send(reply, transfer);
  } catch (error) {
    if (!reply.data) throw error;
    // Memory the runtime would not move goes as a copy.
    const copy = new Uint8Array(new Uint8Array(reply.data, 0, reply.length)).buffer;
    send({ ...reply, data: copy }, [copy]);
  }
}
