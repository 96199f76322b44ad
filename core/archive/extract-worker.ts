/**
 * The restore worker thread: takes requests from the main thread and does
 * them with ExtractWork (extract-work.ts); the protocol is in extract-protocol.ts.
 *
 * It runs at load, so nothing imports it: scripts/build-workers.mjs compiles it
 * into the string that extract-worker-source.ts exports, which the pool starts
 * with `eval: true`. Node built-ins only, as the compiled string must stand alone.
 */
import { parentPort } from "node:worker_threads";
import type { ExtractRequest } from "./extract-protocol.js";
import { ExtractWork } from "./extract-work.js";

const port = parentPort!;
const work = new ExtractWork((message, transfer) => port.postMessage(message, transfer ?? []));
port.on("message", (message: ExtractRequest) => work.receive(message));
