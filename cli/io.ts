/** What a command writes to, so commands can run in-process in tests and from the binary alike. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Where a question to the user is answered; without it (or off a terminal) nothing is asked. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // Opened when a question is asked: opening standard input (a socket for a pipe) costs a run that asks nothing.
  get stdin() {
    return process.stdin;
  },
});
