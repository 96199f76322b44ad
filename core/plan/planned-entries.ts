import { RecordReader, textSize, writeNumber, writeText, writeWord } from "../spool/record-fields.js";
import { RecordSpool, type RecordSpoolOptions } from "../spool/record-spool.js";
import type { PathFilter } from "./filter.js";
import { tallying, visitHomeFields, type PlannedEntry, type WalkFieldVisitor, type WalkOptions, type WalkTotals } from "./walk.js";

const KINDS: PlannedEntry["kind"][] = ["file", "directory", "symlink"];
const HAS_LINK = 4;
/** Flags, size, mtime, mode. */
const FIXED_BYTES = 1 + 8 + 8 + 4;

/** An entry's fields on their way into a record: one object reused for every entry. */
interface Fields {
  path: string;
  kind: PlannedEntry["kind"];
  size: number;
  mtimeMs: number;
  mode: number;
  linkTarget: string | undefined;
}

function encode(target: Buffer, start: number, entry: Fields): number {
  target[start] = KINDS.indexOf(entry.kind) | (entry.linkTarget !== undefined ? HAS_LINK : 0);
  let at = writeNumber(target, start + 1, entry.size);
  at = writeNumber(target, at, entry.mtimeMs);
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
  private readonly fields: Fields = { path: "", kind: "file", size: 0, mtimeMs: 0, mode: 0, linkTarget: undefined };

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
    this.addFields(entry.path, entry.kind, entry.size, entry.mtime.getTime(), entry.mode, entry.linkTarget);
  }

  /** {@link add} from the walk's fields, with no object per entry. */
  addFields(path: string, kind: PlannedEntry["kind"], size: number, mtimeMs: number, mode: number, linkTarget: string | undefined): void {
    const fields = this.fields;
    fields.path = path;
    fields.kind = kind;
    fields.size = size;
    fields.mtimeMs = mtimeMs;
    fields.mode = mode;
    fields.linkTarget = linkTarget;
    this.spool.append(FIXED_BYTES + textSize(path) + (linkTarget !== undefined ? textSize(linkTarget) : 0), encode, fields);
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

/**
 * A spool for a walk of any medium: `visitor` takes what the walk reports
 * (entries spooled, totals added up by `tallying`), `done` gives the walk,
 * `discard` lets the spool go when the walk fails.
 */
export function walkSpool(spool: RecordSpoolOptions = {}): { visitor: WalkFieldVisitor; done(): SpooledWalk; discard(): void } {
  const entries = new PlannedEntries(spool);
  const { visitor, totals } = tallying((path, kind, size, mtimeMs, mode, linkTarget) => entries.addFields(path, kind, size, mtimeMs, mode, linkTarget));
  return { visitor, done: () => ({ entries, ...totals }), discard: () => entries.close() };
}

/** Walks the home (see {@link visitHome}) into a spool; the spool is closed if the walk fails. */
export function spoolHome(home: string, filter: PathFilter, options: WalkOptions = {}, spool: RecordSpoolOptions = {}): SpooledWalk {
  const spooled = walkSpool(spool);
  try {
    visitHomeFields(home, filter, spooled.visitor, options);
    return spooled.done();
  } catch (error) {
    spooled.discard();
    throw error;
  }
}
