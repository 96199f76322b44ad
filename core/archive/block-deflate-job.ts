/**
 * The worker's side of deflating one block of a stream entry (the main
 * thread's side is block-deflate.ts). Imported by deflate-worker.ts, so it is
 * compiled into the worker string: Node built-ins only.
 */
import { constants as zlibConstants, deflateRawSync, type ZlibOptions } from "node:zlib";

/**
 * One block of a stream: `length` bytes at `offset + dictionaryLength` of
 * `input`, preceded there by the `dictionaryLength` bytes of the stream just
 * before it. Deflated with those as dictionary and ended with a sync flush (or,
 * for the last block, a final block), the blocks concatenate into one deflate
 * stream, as pigz does.
 */
export interface BlockRequest {
  type: "block";
  id: number;
  level: number;
  input: SharedArrayBuffer;
  offset: number;
  dictionaryLength: number;
  length: number;
  last: boolean;
  slots: number[];
}

/** A deflated block: `length` bytes in `slot`, or, if they outgrew it, in `data` (transferred). */
export type BlockReply = { type: "block"; id: number; length: number } & ({ slot: number; data?: undefined } | { data: ArrayBuffer; slot?: undefined });

/**
 * Deflates a block into `slot` (the job's output slot; a job sent without one answers in a buffer
 * of its own); returns the reply, what to transfer with it, and the bytes it allocated (garbage once sent).
 */
export function deflateBlock(request: BlockRequest, slot: Uint8Array | undefined): { reply: BlockReply; transfer: ArrayBuffer[]; allocated: number } {
  const start = request.offset + request.dictionaryLength;
  const content = new Uint8Array(request.input, start, request.length);
  // Room for the worst case in one output buffer: one allocation per block, not one per 16 KiB.
  const chunkSize = request.length + (request.length >> 8) + 64;
  const options: ZlibOptions = { level: request.level, chunkSize, finishFlush: request.last ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH };
  if (request.dictionaryLength > 0) options.dictionary = new Uint8Array(request.input, request.offset, request.dictionaryLength);
  const output = deflateRawSync(content, options);
  if (slot !== undefined && output.length <= slot.length) {
    slot.set(output, 0);
    return { reply: { type: "block", id: request.id, slot: request.slots[0]!, length: output.length }, transfer: [], allocated: chunkSize };
  }
  // Outside a slot the output's own memory goes to the main thread, moved rather than copied, so it is no
  // garbage here. Only memory the output had to itself can move: a buffer that small comes from Node's shared
  // pool, which cannot, and is copied.
  if (chunkSize >= Buffer.poolSize && output.byteOffset === 0 && output.buffer.byteLength === chunkSize) {
    const data = output.buffer as ArrayBuffer;
    return { reply: { type: "block", id: request.id, data, length: output.length }, transfer: [data], allocated: 0 };
  }
  const data = new Uint8Array(output).buffer;
  return { reply: { type: "block", id: request.id, data, length: output.length }, transfer: [data], allocated: chunkSize };
}
