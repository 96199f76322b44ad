import type { CommandOutput } from "./context.js";
import type { CliIo } from "./io.js";

/** A question before something that cannot be undone. */
export interface Confirmation {
  /** What will happen, shown before the question. */
  what: string[];
  /** The question, answered y or N: "Delete it?". */
  question: string;
}

/** Someone at a terminal can answer a question. */
export function canAsk(io: CliIo): boolean {
  return Boolean(io.stdin?.isTTY);
}

/** Shows what will happen and asks on the terminal (see `canAsk`); resolves to a yes. */
export async function confirm(io: CliIo, out: CommandOutput, confirmation: Confirmation): Promise<boolean> {
  out.note(confirmation.what.join("\n"));
  // Loaded only to ask: most runs ask nothing.
  const { createInterface } = await import("node:readline/promises");
  const prompt = createInterface({ input: io.stdin!, output: io.stderr, terminal: false });
  try {
    // Input that ends before a line is answered is a no.
    const ended = new Promise<string>((resolve) => prompt.once("close", () => resolve("")));
    const answer = await Promise.race([prompt.question(`${confirmation.question} [y/N] `).catch(() => ""), ended]);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    prompt.close();
  }
}
