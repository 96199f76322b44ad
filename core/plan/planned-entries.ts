import { RecordReader, textSize, writeNumber, writeText, writeWord } from "../spool/record-fields.js";
import { RecordSpool, type RecordSpoolOptions } from "../spool/record-spool.js";
import type { PathFilter } from "./filter.js";
import { tallyHome, type PlannedEntry, type WalkOptions, type WalkTotals } from "./walk.js";

const KINDS: PlannedEntry["kind"][] = ["file", "directory", "symlink"];
const HAS_LINK = 4;
/** Flags, size, mtime, mode. */
const FIXED_BYTES = 1 + 8 + 8 + 4;

function encode(target: Buffer, start: number, entry: PlannedEntry): number {
  target[start] = KINDS.indexOf(entry.kind) | (entry.linkTarget !== undefined ? HAS_LINK : 0);
  let at = writeNumber(target, start + 1, entry.size);
  at = writeNumber(target, at, entry.mtime.getTime());
  at = writeWord(target, at, entry.mode);
  at = writeText(target, at, entry.path);
  return entry.linkTarget !== undefined ? writeText(target, at, entry.linkTarget) : at;
}

/**
 * The walk's entries, in walk order, as records in a spool: what the archive
 * step needs of a home of a million files without a million objects alive
 * between the walk and the archive. Read back once, in order; `close()` lets
 * them (and any temp file) go.
 */
export class PlannedEntries implements Iterable<PlannedEntry> {
  private readonly spool: RecordSpool;

  constructor(spool: RecordSpoolOptions = {}) {
    this.spool = new RecordSpool(spool);
  }

  get length(): number {
    return this.spool.count;
  }

  /** Whether the entries went to a temp file. */
  get spilled(): boolean {
    return this.spool.spilled;
  }

  add(entry: PlannedEntry): void {
    this.spool.append(FIXED_BYTES + textSize(entry.path) + (entry.linkTarget !== undefined ? textSize(entry.linkTarget) : 0), encode, entry);
  }

  *[Symbol.iterator](): Iterator<PlannedEntry> {
    const reader = new RecordReader();
    for (const record of this.spool.records()) {
      reader.reset(record);
      const flags = reader.byte();
      const entry: PlannedEntry = { path: "", kind: KINDS[flags & 3]!, size: reader.number(), mtime: new Date(reader.number()), mode: reader.word() };
      entry.path = reader.text();
      if (flags & HAS_LINK) entry.linkTarget = reader.text();
      yield entry;
    }
  }

  close(): void {
    this.spool.close();
  }
}

/** A walk whose entries are spooled: only totals and the few problem paths stay in memory. */
export interface SpooledWalk extends WalkTotals {
  entries: PlannedEntries;
}

/** Walks the home (see {@link visitHome}) into a spool; the spool is closed if the walk fails. */
export function spoolHome(home: string, filter: PathFilter, options: WalkOptions = {}, spool: RecordSpoolOptions = {}): SpooledWalk {
  const entries = new PlannedEntries(spool);
  try {
    return { entries, ...tallyHome(home, filter, (entry) => entries.add(entry), options) };
  } catch (error) {
    entries.close();
    throw error;
  }
}
