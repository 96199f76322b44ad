import { Command, CommanderError } from "commander";
import { toolVersion } from "../core/index.js";
import { registerBackup } from "./commands/backup.js";
import { registerList } from "./commands/list.js";
import { registerConfigure } from "./commands/configure.js";
import { registerDelete } from "./commands/delete.js";
import { registerConfigShow } from "./commands/config-show.js";
import { registerRunScheduled } from "./commands/run-scheduled.js";
import { registerPrune } from "./commands/prune.js";
import { registerRestore } from "./commands/restore.js";
import { registerVerify } from "./commands/verify.js";
import { registerShow } from "./commands/show.js";
import { processIo, type CliIo } from "./io.js";
import { ExitCode } from "./exit-codes.js";
import { programHelpText } from "./help.js";

/** Each command registers itself; the program only wires them together. */
const commands = [
  registerBackup,
  registerList,
  registerConfigure,
  registerConfigShow,
  registerRunScheduled,
  registerPrune,
  registerRestore,
  registerVerify,
  registerShow,
  registerDelete,
];

/** The program with every command registered; `setExit` receives the exit code a command settles on. */
export function createProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command("app-backup")
    .description("Back up and restore a web app's content, configuration and databases, the way Azure App Service does, for any app.")
    .version(toolVersion)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  program.addHelpText("after", () => programHelpText());
  for (const register of commands) register(program, io, setExit);
  return program;
}

/** Runs the `app-backup` CLI and resolves to its exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = createProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    throw error;
  }
  return exitCode;
}
