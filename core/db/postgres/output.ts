import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";

/** A failure of the stream the dump is written to, as opposed to one of the database. */
export class OutputFailure extends Error {
  constructor(readonly original: unknown) {
    super(`The dump output failed: ${(original as Error)?.message ?? String(original)}`);
  }
}

/** Writes to the caller's stream, waiting for 'drain' whenever it asks for a pause. */
export class DumpOutput {
  bytes = 0;

  constructor(private readonly out: Writable, private readonly signal?: AbortSignal) {}

  async write(chunk: string | Buffer): Promise<void> {
    if (this.out.destroyed || this.out.writableEnded) throw new OutputFailure(new Error("the output stream was closed before the dump finished"));
    this.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (!this.out.write(chunk)) await this.drained();
  }

  /**
   * Writes everything `source` produces, pausing it while the output is full. Errors of `source`
   * come back as they are; the output's own as OutputFailure.
   */
  pipeFrom(source: Readable): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        source.off("data", onData);
        source.off("end", onEnd);
        source.off("error", finish);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onEnd = () => finish();
      const onData = (chunk: Buffer) => {
        this.bytes += chunk.length;
        if (this.out.destroyed || this.out.writableEnded) return finish(new OutputFailure(new Error("the output stream was closed before the dump finished")));
        if (!this.out.write(chunk)) {
          source.pause();
          this.drained().then(() => source.resume(), finish);
        }
      };
      source.on("data", onData);
      source.once("end", onEnd);
      source.once("error", finish);
    });
  }

  async end(): Promise<void> {
    this.out.end();
    try {
      await finished(this.out, { readable: false });
    } catch (error) {
      throw new OutputFailure(error);
    }
  }

  private drained(): Promise<void> {
    const out = this.out;
    const signal = this.signal;
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        out.off("drain", onDrain);
        out.off("error", onError);
        out.off("close", onClose);
        signal?.removeEventListener("abort", onAbort);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onError = (error: unknown) => {
        cleanup();
        reject(new OutputFailure(error));
      };
      const onClose = () => onError(new Error("the output stream was closed before the dump finished"));
      const onAbort = () => {
        cleanup();
        reject(signal!.reason);
      };
      out.on("drain", onDrain);
      out.on("error", onError);
      out.on("close", onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
