/**
 * `node:worker_threads`, loaded when a pool starts its first worker: most short
 * runs start none, and loading the module costs every run a few milliseconds.
 */
export function workerThreads(): typeof import("node:worker_threads") {
  return process.getBuiltinModule("node:worker_threads");
}
