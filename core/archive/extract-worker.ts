/**
 * The restore worker thread: takes requests from the main thread and does
 * them with ExtractWork (extract-work.ts); the protocol is in extract-protocol.ts.
 *
 * It runs at load, so nothing imports it: scripts/build-workers.mjs compiles it
 * into the string that extract-worker-source.ts exports, which the pool starts
 * with `eval: true`. Node built-ins only, as the compiled string must stand alone.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ExtractRequest, ExtractWorkerData } from "./extract-protocol.js";
import { ExtractWork } from "./extract-work.js";
import { libdeflateForWorker } from "./libdeflate-binding.js";

const port = parentPort!;
const libdeflate = libdeflateForWorker((workerData as ExtractWorkerData | undefined)?.libdeflateFile);

/**
 * The worker inflates megabytes into buffers held by small JS objects, and V8
 * frees a buffer only when it collects its object: left alone it lets about
 * 64 MiB of them pile up per thread (a `verify --read-data`, which writes
 * nothing, outran its collections by that much). A young-generation
 * collection after each few MiB of work frees them; it costs little, as the
 * worker holds little JS. `gc` is there when the pool exposed it first.
 */
const collectYoung = typeof globalThis.gc === "function" ? () => globalThis.gc!({ type: "minor" }) : () => {};
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
let bytesSinceCollection = 0;

const work = new ExtractWork((message, transfer) => {
  // Counted before the buffer is transferred (which empties it here).
  const recycled = (message as { recycled?: ArrayBuffer }).recycled;
  bytesSinceCollection += recycled ? recycled.byteLength : 0;
  port.postMessage(message, transfer ?? []);
  if (bytesSinceCollection >= COLLECT_EVERY_BYTES) {
    bytesSinceCollection = 0;
    collectYoung();
  }
}, libdeflate);
port.on("message", (message: ExtractRequest) => work.receive(message));
