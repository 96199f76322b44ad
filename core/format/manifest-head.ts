import { AppBackupError } from "../errors.js";
import { MANIFEST_HEAD_LIMIT_BYTES, type ManifestSummary } from "./manifest.js";
import { parseManifestSummary } from "./manifest-xml-parse.js";
import type { Store } from "../store/store.js";

/**
 * The head text kept to parse a summary. The lists a head may hold by the
 * thousand (warnings, skipped files) are kept only while the head fits in
 * this; past it their items are passed over unkept, so listing a backup of a
 * million unreadable files costs a read, not its size in memory.
 */
const keptHeadBudget = 4 * 1024 * 1024;
/** The rest of a head (summary values, origin, filter lines, databases and their tables) is never this large. */
const keptHeadLimit = 16 * 1024 * 1024;

/** Our manifests start with the XML declaration and the root element: no DOCTYPE, so no entity can expand. */
const ourPrologue = /^\uFEFF?(?:<\?xml[^<>]*\?>)?\s*<BackupManifest[\s>]/;

const prologueBytes = 512;

/** Lists whose items may be passed over: a listing needs none of them. */
const longLists = ["Warnings", "Skipped"] as const;

/** An object named like a manifest that is not one of ours: skipped, never parsed. Its message reads "not an app-backup manifest (why)". */
export class ForeignObjectError extends Error {}

/**
 * A manifest's summary from one streaming read of its head, stopping at the
 * entry list. Throws ForeignObjectError when the object is not in our
 * manifest format (empty, binary, another XML document), and BACKUP_CORRUPT
 * when it is ours but its head cannot be read. When the head is larger than
 * the budget, its warning and skipped-file lists come back empty.
 */
export async function readManifestHead(store: Store, objectName: string, size: number): Promise<ManifestSummary> {
  if (size === 0) throw new ForeignObjectError("not an app-backup manifest (it is empty)");
  const stream = await store.read(objectName, { offset: 0, length: Math.min(size, MANIFEST_HEAD_LIMIT_BYTES) });
  try {
    return await manifestHeadOf(stream, objectName, size);
  } finally {
    // The entry list after the head is never read.
    (stream as { destroy?: () => void }).destroy?.();
  }
}

/** The same from a manifest's bytes as they come (from a stream, or read already), taking none after the head. */
export async function manifestHeadOf(chunks: AsyncIterable<unknown> | Iterable<Buffer>, objectName: string, size: number): Promise<ManifestSummary> {
  if (size === 0) throw new ForeignObjectError("not an app-backup manifest (it is empty)");
  const scanner = new HeadScanner(objectName);
  for await (const chunk of chunks) {
    if (scanner.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))) break;
  }
  return scanner.summary(size);
}

/** Text of a head, fed chunk by chunk, with long lists passed over once the budget is spent. */
class HeadScanner {
  private readonly decoder = new TextDecoder("utf-8");
  private kept = "";
  /** Where the next search for a tag starts in `kept`. */
  private searchFrom = 0;
  /** The long list being read, and where its items start in `kept`. */
  private list: { name: (typeof longLists)[number]; itemsFrom: number; passingOver: boolean; tail: string } | undefined;
  private scannedBytes = 0;
  private checkedPrologue = false;
  /** The first bytes, held until there are enough to tell whether the object is ours. */
  private start: Buffer | undefined;
  private elided = false;
  private done = false;

  constructor(private readonly source: string) {}

  /** Takes the next chunk; true once the entry list is reached and nothing more is needed. */
  push(bytes: Buffer): boolean {
    this.scannedBytes += bytes.length;
    if (!this.checkedPrologue) {
      // Nothing is decoded before the start is known to be ours.
      this.start = this.start ? Buffer.concat([this.start, bytes]) : bytes;
      if (this.start.length < prologueBytes) return false;
      this.checkPrologue();
      bytes = this.start;
      this.start = undefined;
    }
    this.take(this.decoder.decode(bytes, { stream: true }));
    if (!this.done && this.scannedBytes >= MANIFEST_HEAD_LIMIT_BYTES) throw this.noEntryList(MANIFEST_HEAD_LIMIT_BYTES);
    return this.done;
  }

  summary(size: number): ManifestSummary {
    if (!this.checkedPrologue) {
      this.checkPrologue();
      this.take(this.decoder.decode(this.start ?? Buffer.alloc(0), { stream: true }));
    }
    if (!this.done) {
      if (this.scannedBytes < size) throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${this.source} ended before its entry list (read ${this.scannedBytes} of ${size} bytes).`);
      // A Failed backup's manifest may be complete without an entry list.
      return this.parse(`${this.kept}${this.decoder.decode()}`, true);
    }
    return this.parse(`${this.kept}</BackupManifest>`, false);
  }

  private checkPrologue(): void {
    this.checkedPrologue = true;
    if (!ourPrologue.test((this.start ?? Buffer.alloc(0)).subarray(0, prologueBytes).toString("latin1"))) {
      throw new ForeignObjectError("not an app-backup manifest (it does not start with <BackupManifest>)");
    }
  }

  private take(text: string): void {
    let rest = text;
    while (rest && !this.done) {
      if (this.list?.passingOver) {
        const window = this.list.tail + rest;
        const close = window.indexOf(`</${this.list.name}>`);
        if (close < 0) {
          this.list.tail = window.slice(-(this.list.name.length + 3));
          return;
        }
        const after = close + this.list.name.length + 3;
        this.kept += `</${this.list.name}>`;
        this.searchFrom = this.kept.length;
        rest = window.slice(after);
        this.list = undefined;
        continue;
      }
      this.kept += rest;
      rest = "";
      this.scanKept();
    }
  }

  /** Looks for the next tag that matters in what was kept since the last look. */
  private scanKept(): void {
    for (;;) {
      if (this.list) {
        const closeTag = `</${this.list.name}>`;
        const close = this.kept.indexOf(closeTag, this.searchFrom);
        if (close >= 0) {
          this.searchFrom = close + closeTag.length;
          this.list = undefined;
          continue;
        }
        if (this.kept.length > keptHeadBudget) {
          // Pass over the rest of this list: keep what it held so far out of the summary too.
          const tail = this.kept.slice(this.list.itemsFrom);
          this.kept = this.kept.slice(0, this.list.itemsFrom);
          this.list = { ...this.list, passingOver: true, tail: "" };
          this.elided = true;
          this.take(tail);
          return;
        }
        this.searchFrom = Math.max(this.searchFrom, this.kept.length - closeTag.length);
        return;
      }
      const entries = this.kept.indexOf("<Entries", this.searchFrom);
      const next = this.nextListOpening();
      if (entries >= 0 && (!next || entries < next.at)) {
        this.kept = this.kept.slice(0, entries);
        this.done = true;
        return;
      }
      if (this.kept.includes("<!", Math.max(0, this.searchFrom - 1))) {
        throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${this.source} holds a declaration (<!…) that app-backup never writes; it was not read.`);
      }
      if (!next) {
        if (this.kept.length > keptHeadLimit) throw this.noEntryList(keptHeadLimit);
        // A tag may be cut by the chunk's end: look again from a little before it.
        this.searchFrom = Math.max(this.searchFrom, this.kept.length - 16);
        return;
      }
      if (next.selfClosing) {
        this.searchFrom = next.end;
        continue;
      }
      this.list = { name: next.name, itemsFrom: next.end, passingOver: false, tail: "" };
      this.searchFrom = next.end;
    }
  }

  private nextListOpening(): { name: (typeof longLists)[number]; at: number; end: number; selfClosing: boolean } | undefined {
    let found: { name: (typeof longLists)[number]; at: number; end: number; selfClosing: boolean } | undefined;
    for (const name of longLists) {
      let at = this.kept.indexOf(`<${name}`, this.searchFrom);
      while (at >= 0 && /[\w-]/.test(this.kept[at + name.length + 1] ?? "")) at = this.kept.indexOf(`<${name}`, at + 1);
      if (at < 0 || (found && found.at < at)) continue;
      const end = this.kept.indexOf(">", at);
      if (end < 0) return undefined; // the tag is not whole yet
      found = { name, at, end: end + 1, selfClosing: this.kept[end - 1] === "/" };
    }
    return found;
  }

  private parse(xml: string, whole: boolean): ManifestSummary {
    if (!whole && xml.includes("<!")) {
      throw new AppBackupError("BACKUP_CORRUPT", `The manifest ${this.source} holds a declaration (<!…) that app-backup never writes; it was not read.`);
    }
    const summary = parseManifestSummary(xml, this.source);
    return this.elided ? { ...summary, warnings: [], skipped: [] } : summary;
  }

  private noEntryList(limit: number): AppBackupError {
    return new AppBackupError(
      "BACKUP_CORRUPT",
      `The manifest ${this.source} has no entry list within its first ${limit / (1024 * 1024)} MB; it is not a manifest app-backup writes and was not read further.`,
    );
  }
}
