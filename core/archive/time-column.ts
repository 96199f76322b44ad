/** A time in ms split in two: high * 2^32 + low. */
const SPLIT = 2 ** 32;
/** `high` of a row whose time is not held in the two arrays: in `others`, or NaN when it is not there either. */
const ELSEWHERE = -0x8000;
/** The times the two arrays hold: whole ms within about ±4,400 years of 1970. */
const MAX_HIGH = 0x7fff;

/**
 * Modification times in ms, 6 bytes a row instead of a Float64's 8: a
 * million-file manifest's times take 6 MB. Every time a manifest or zip
 * gives is a whole number of ms well within the range held, and anything
 * else (a fraction, a far date, NaN for "not given") is kept as it is, so a
 * row reads back exactly what was set.
 */
export class TimeColumn {
  private constructor(
    private low: Uint32Array,
    private high: Int16Array,
    private readonly others: Map<number, number>,
  ) {}

  static ofLength(rows: number): TimeColumn {
    return new TimeColumn(new Uint32Array(rows), new Int16Array(rows), new Map());
  }

  /** Rows held (all 0 ms until set). */
  get length(): number {
    return this.low.length;
  }

  get(row: number): number {
    const high = this.high[row]!;
    if (high !== ELSEWHERE) return high * SPLIT + this.low[row]!;
    return this.others.get(row) ?? Number.NaN;
  }

  set(row: number, ms: number): void {
    if (this.others.size > 0) this.others.delete(row);
    const high = Math.floor(ms / SPLIT);
    if (Number.isInteger(ms) && high >= -MAX_HIGH && high <= MAX_HIGH) {
      this.high[row] = high;
      this.low[row] = ms - high * SPLIT;
      return;
    }
    this.high[row] = ELSEWHERE;
    if (!Number.isNaN(ms)) this.others.set(row, ms);
  }

  /** The same times in arrays `change` makes from the current ones (longer or shorter; rows past the end are dropped). */
  changed(change: <T extends Uint32Array | Int16Array>(column: T) => T): TimeColumn {
    const low = change(this.low);
    const high = change(this.high);
    const others = new Map([...this.others].filter(([row]) => row < low.length));
    return new TimeColumn(low, high, others);
  }
}
