import type vm from "node:vm";

// Node's modules as it holds them: an `import` of `node:fs` builds its ES module
// namespace, which reads every export, and `fs.promises` loads the streams,
// readline and more, which a short command does not need (this module runs in
// the binary, an ES module).
const { readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = process.getBuiltinModule("node:fs");
const { createRequire } = process.getBuiltinModule("node:module");
const path = process.getBuiltinModule("node:path");
const v8 = process.getBuiltinModule("node:v8");
const { Script, constants: vmConstants } = process.getBuiltinModule("node:vm");

/**
 * Runs the CLI's program (one CommonJS bundle) with V8's code cache of an
 * earlier run of the same command, kept in `cacheFolder`.
 *
 * Node's own compile cache keeps a module's code as compiled when it loads,
 * before it runs: V8 compiles most functions only when first called, so every
 * run compiled again the few hundred functions a command calls, and resolved
 * and linked each of the bundle's chunks as ES modules. A code cache made at
 * the end of a run holds every function that run compiled. The first run of
 * each command that loads the command and succeeds writes one; later runs of
 * that command read it and compile almost nothing (what a first run did not
 * call, `backup --dry-run` before any backup, is compiled as it is called).
 *
 * The cache is code that runs as this user, so it is kept only in a folder of
 * the user's own (see compile-cache.ts). A cache is named by the program's
 * identity (its first line, a digest the build writes), its length, and V8's
 * version tag, which changes with Node's version, the engine's flags and the
 * processor's features: a cache of another build or another Node is never
 * offered to V8, and V8 itself rejects one it cannot use, which the run then
 * replaces. Without a folder, the program runs compiled as it goes.
 */
export function runProgram(programFile: string, cacheFolder: string | undefined, command: string | undefined): void {
  // The build writes the program in ASCII: latin1 is then its exact text, read without UTF-8 decoding.
  const source = readFileSync(programFile, "latin1");
  const versionTag = v8.cachedDataVersionTag();
  // The first argument when it is a command's name; a run without one shows help or the version.
  const commandName = command !== undefined && /^[a-z][a-z-]{0,31}$/.test(command) ? command : undefined;
  const cacheFile = cacheFolder === undefined ? undefined : path.join(cacheFolder, cacheFileName(source, versionTag, commandName));
  const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: programFile,
    cachedData,
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const program: { exports: { commandLoaded?: () => boolean } } = { exports: {} };
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    const gcExposedAtStart = typeof (globalThis as { gc?: unknown }).gc === "function";
    // A command's cache is made by a run that did its work: `backup --help` or a
    // run that failed would leave a cache without the functions a backup calls.
    process.once("exit", (code) => {
      if (code === 0 && (commandName === undefined || program.exports.commandLoaded?.() === true)) writeCache(script, cacheFile, versionTag, gcExposedAtStart);
    });
  }
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(program.exports, programRequire(programFile), program, programFile, path.dirname(programFile));
}

/**
 * The program's `require`: Node's own modules straight from Node, everything
 * else (a vendor bundle, ssh2) through the CommonJS loader. A short command
 * requires only Node's modules, and the loader's first call alone costs a few
 * milliseconds (it sets up its debug logging).
 */
function programRequire(programFile: string): NodeJS.Require {
  const load = createRequire(programFile);
  return Object.assign((id: string): unknown => process.getBuiltinModule(id) ?? load(id), {
    resolve: load.resolve,
    cache: load.cache,
    extensions: load.extensions,
    main: load.main,
  }) as NodeJS.Require;
}

const PREFIX = "program-";
/** Caches kept at most: one per command and build, for a few builds (installs, checkouts). */
const MOST_CACHES = 48;

function cacheFileName(source: string, versionTag: number, commandName: string | undefined): string {
  const identity = /^\/\/ app-backup program ([0-9a-f]{8,64})\n/.exec(source)?.[1] ?? "unnamed";
  return `${PREFIX}${identity}-${source.length}-${versionTag}-${commandName ?? "-"}.bin`;
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The app sets two of V8's flags while it runs (garbage collection exposed,
 * young generation held small), and V8 accepts a cache only under the flags it
 * was made with: they are set back first, and no cache is written if V8's
 * version tag is then not what the run started with (a flag set otherwise on
 * the command line).
 */
function writeCache(script: vm.Script, file: string, versionTag: number, gcExposedAtStart: boolean): void {
  try {
    v8.setFlagsFromString("--semi-space-growth-factor=2");
    if (!gcExposedAtStart) v8.setFlagsFromString("--no-expose-gc");
    if (v8.cachedDataVersionTag() !== versionTag) return;
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, script.createCachedData(), { mode: 0o600, flag: "wx" });
    renameSync(partial, file);
    removeOldCaches(path.dirname(file));
  } catch {
    // Without a cache the next run compiles as this one did.
  }
}

/**
 * The oldest caches beyond MOST_CACHES, and partial writes of runs that ended
 * first. Another run may be tidying too: what is gone already is skipped.
 */
function removeOldCaches(folder: string): void {
  const hourAgo = Date.now() - 3_600_000;
  const files = readdirSync(folder)
    .filter((name) => name.startsWith(PREFIX))
    .map((name) => ({ name, file: path.join(folder, name), mtimeMs: statSync(path.join(folder, name), { throwIfNoEntry: false })?.mtimeMs }))
    .filter((entry): entry is { name: string; file: string; mtimeMs: number } => entry.mtimeMs !== undefined);
  const caches = files.filter((entry) => !entry.name.endsWith(".partial")).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const stale = [...caches.slice(MOST_CACHES), ...files.filter((entry) => entry.name.endsWith(".partial") && entry.mtimeMs < hourAgo)];
  for (const { file } of stale) {
    try {
      unlinkSync(file);
    } catch {
      // Removed by another run.
    }
  }
}
