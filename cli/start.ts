/** The CLI as a process: its signals and its exit code. */
import { ExitCode, keepMemorySmall } from "../core/index.js";
import { whenCommandLoaded } from "./commands/loaded.js";
import { main } from "./main.js";

// For the binary (cli/code-cache.ts): a run keeps a code cache of its command only once the command ran.
export { commandLoaded } from "./commands/loaded.js";

// Once the command's modules are loaded, not before: the objects loading makes
// would then be promoted early, and a 12-byte backup paid for an old-generation
// collection.
whenCommandLoaded(keepMemorySmall);

/**
 * SIGINT and SIGTERM end every command with exit 130. A command that stops
 * cleanly on a signal (backup and restore discard what they staged) listens
 * too and ends by itself; any other is stopped at once, as Node would stop it.
 * A second signal stops any command at once: a backup cut short that way has
 * no manifest, so it is never taken for a restorable one, and what it staged
 * is swept as an orphan.
 */
let interruptedBy: NodeJS.Signals | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  interruptedBy ??= signal;
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write(`error: interrupted by ${signal}; the command did not finish.\n`);
  process.exit(ExitCode.interrupted);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = interruptedBy ? ExitCode.interrupted : code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = interruptedBy ? ExitCode.interrupted : ExitCode.failed;
  },
);
