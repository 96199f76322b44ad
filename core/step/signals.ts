/**
 * Runs `work` with SIGINT and SIGTERM turned into an abort of its signal, so a
 * restore can discard what it staged and end before whoever sent the signal
 * kills the process. `onSignal` says what is happening and gives the abort's reason.
 * The handlers are removed when the work ends, restoring Node's default.
 */
export async function cancelOnSignals<T>(onSignal: (signal: NodeJS.Signals) => Error, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const cancel = new AbortController();
  const handler = (signal: NodeJS.Signals) => cancel.abort(onSignal(signal));
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  try {
    return await work(cancel.signal);
  } finally {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  }
}
