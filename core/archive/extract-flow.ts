/**
 * Read buffers, reused: each goes to a worker and comes back with its answer.
 * Sizes are rounded up to whole `unit`s so buffers fit many reads; a bounded
 * number is kept, the rest left to the garbage collector.
 */
export class BufferRecycler {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  constructor(
    private readonly unit: number,
    private readonly maxFreeBytes: number,
  ) {}

  take(length: number): ArrayBuffer {
    const capacity = this.capacityFor(length);
    const buffer = this.free.get(capacity)?.pop();
    if (buffer) {
      this.freeBytes -= capacity;
      return buffer;
    }
    return new ArrayBuffer(capacity);
  }

  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || this.freeBytes + buffer.byteLength > this.maxFreeBytes) return;
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.freeBytes += buffer.byteLength;
  }

  private capacityFor(length: number): number {
    return Math.max(1, Math.ceil(length / this.unit)) * this.unit;
  }
}

/** A counting semaphore over bytes; a request larger than the whole budget is let through alone. */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ amount: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private failure?: Error;

  constructor(private readonly capacity: number) {}

  async reserve(amount: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.fits(amount) && this.waiting.length === 0) {
      this.used += amount;
      return;
    }
    await new Promise<void>((resolve, reject) => this.waiting.push({ amount, resolve, reject }));
  }

  release(amount: number): void {
    this.used -= amount;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.amount)) {
      const next = this.waiting.shift()!;
      this.used += next.amount;
      next.resolve();
    }
  }

  abort(error: Error): void {
    this.failure = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  private fits(amount: number): boolean {
    return this.used === 0 || this.used + amount <= this.capacity;
  }
}
