import type { Writable } from "node:stream";

/**
 * Writes to the dump's destination with backpressure, and turns the destination failing
 * or closing early into an error for whoever is waiting on it.
 */
export class DumpOutput {
  private failure: Error | undefined;
  private readonly waiters = new Set<(error: Error) => void>();

  constructor(readonly out: Writable) {
    const fail = (error: Error) => {
      if (this.failure) return;
      this.failure = error;
      for (const waiter of this.waiters) waiter(error);
      this.waiters.clear();
    };
    out.on("error", fail);
    out.on("close", () => {
      if (!out.writableFinished) fail(new Error("the dump destination was closed before the dump was complete"));
    });
  }

  /** Called with the destination's error if it fails; returns a function that stops listening. */
  onFailure(listener: (error: Error) => void): () => void {
    if (this.failure) {
      listener(this.failure);
      return () => {};
    }
    this.waiters.add(listener);
    return () => this.waiters.delete(listener);
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Writes; the returned promise resolves once the destination can take more. */
  async write(chunk: string | Buffer): Promise<void> {
    this.throwIfFailed();
    if (this.out.write(chunk)) return;
    await this.drained();
  }

  /** Writes without waiting; returns false when the caller should wait for `drained()`. */
  writeNow(chunk: Buffer): boolean {
    return this.out.write(chunk);
  }

  drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      const onDrain = () => {
        stop();
        resolve();
      };
      const stop = this.onFailure((error) => {
        this.out.off("drain", onDrain);
        reject(error);
      });
      this.out.once("drain", onDrain);
    });
  }

  end(): Promise<void> {
    this.throwIfFailed();
    return new Promise<void>((resolve, reject) => {
      const stop = this.onFailure(reject);
      this.out.end(() => {
        stop();
        resolve();
      });
    });
  }
}
