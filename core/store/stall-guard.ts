import { Readable } from "node:stream";

/**
 * Passes a download's bytes through, failing it when the source sends nothing
 * for `stallMs` while the reader is waiting. A long download that keeps moving
 * is never cut short; only the time spent waiting for the next bytes counts,
 * not the time the reader takes to consume them.
 */
export function failOnStall(source: Readable, stallMs: number, onStall: () => Error): Readable {
  async function* guarded(): AsyncGenerator<Buffer> {
    const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let finished = false;
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(onStall()), stallMs);
        });
        try {
          const pending = chunks.next();
          // A source torn down after a stall rejects this read later; that is already reported.
          pending.catch(() => undefined);
          const next = await Promise.race([pending, stalled]);
          if (next.done) {
            finished = true;
            return;
          }
          yield next.value;
        } finally {
          clearTimeout(timer);
        }
      }
    } finally {
      if (!finished) source.destroy();
    }
  }
  return Readable.from(guarded(), { objectMode: false });
}
