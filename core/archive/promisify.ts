/**
 * util's `promisify`, taken from the module Node has already loaded: importing
 * `node:util` builds its ES module namespace, which reads every export of util,
 * and some of them load modules of their own (worker threads, the argument
 * parser, the diff), about 7 ms on every run that archives or extracts.
 */
export const promisify = process.getBuiltinModule("node:util").promisify;
