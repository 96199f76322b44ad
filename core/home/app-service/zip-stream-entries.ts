import { Readable, Transform } from "node:stream";
import zlib from "node:zlib";
import { AppBackupError } from "../../errors.js";
import { FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, FLAG_UTF8, METHOD_DEFLATE, METHOD_STORE, SIGNATURE } from "../../archive/zip-format.js";

/**
 * Reads a zip front to back as it arrives (the body of Kudu's `GET /api/zip/...`),
 * one entry at a time, without keeping or spooling it: nothing but the entry being
 * read is held, a few dozen kilobytes at most.
 *
 * A zip read this way has only its local headers to go by. Kudu writes its zips with
 * .NET's ZipArchive into the response stream, which cannot seek: each file's local
 * header has the data-descriptor flag (bit 3) with CRC and sizes zero, and the real
 * values follow the data in a descriptor `PK\x07\x08, crc, compressed, size` with
 * 32-bit sizes (64-bit ones, still without a Zip64 field in the local header, past
 * 4 GiB). Empty files and empty folders are written stored, with no descriptor.
 * Info-ZIP's `zip` writing to a pipe and this project's own writer use descriptors
 * too (the latter with a Zip64 field and 64-bit sizes); zips written to a file have
 * the sizes in the local header. All of these are read here.
 *
 * An entry whose sizes come after its data ends where a descriptor whose compressed
 * size equals the bytes read so far is followed by the next record's signature; the
 * CRC-32 and size of what was read are then checked against it, so a stray match
 * inside the data cannot pass unnoticed.
 *
 * The local headers carry no Unix mode, so a symlink cannot be told from a file;
 * Kudu's zips have none. Names written with `\` (by Windows tools) are read with
 * `/`. A name that is absolute, has a drive, or a `..` segment stops the read.
 */
export interface StreamedZipEntry {
  /** `/`-separated, relative, without a trailing `/` (a folder's `kind` says it is one). */
  readonly name: string;
  readonly kind: "file" | "directory";
  /**
   * Uncompressed size in bytes, when the local header gives it; an entry written with a
   * data descriptor has it only once `content` has been read to its end (it is set then).
   */
  size: number | undefined;
  /** From the extended-timestamp field when there is one, else the DOS date and time read as UTC (App Service's clock). */
  readonly mtime: Date;
  /**
   * The entry's bytes, inflated and checked (size and CRC-32) as they are read: the stream
   * fails rather than end early or with wrong bytes. Read it or leave it: the next entry
   * skips what was not read. Empty for a folder.
   */
  readonly content: Readable;
}

export interface ZipStreamOptions {
  /** What the zip is, for messages: "the zip of /site/wwwroot/ from contoso.scm.azurewebsites.net". */
  describe?: string;
}

/** The longest descriptor (signature, CRC, two 64-bit sizes) and the first 3 bytes of the signature after it. */
const DESCRIPTOR_LOOKAHEAD = 24 + 3;

/** Yields the zip's entries in order; the zip must end with its central directory, or the read fails. */
export async function* zipStreamEntries(source: AsyncIterable<Buffer | Uint8Array>, options: ZipStreamOptions = {}): AsyncGenerator<StreamedZipEntry> {
  const what = options.describe ?? "the zip";
  const bytes = new ByteSource(source, what);
  let previous: EntryBody | undefined;
  try {
    for (;;) {
      if (previous) await previous.skipRest();
      const signature = await bytes.peekUInt32();
      if (signature === SIGNATURE.localHeader) {
        const header = await readLocalHeader(bytes, what);
        const body = new EntryBody(bytes, header, what);
        previous = body;
        yield body.entry;
        continue;
      }
      if (signature === SIGNATURE.centralHeader || signature === SIGNATURE.endOfCentralDirectory || signature === SIGNATURE.zip64EndOfCentralDirectory) {
        await readCentralDirectory(bytes, what);
        return;
      }
      throw corrupt(what, `an unexpected record (signature 0x${signature.toString(16).padStart(8, "0")}) at byte ${bytes.position}`);
    }
  } finally {
    // An abandoned read leaves the entry's stream failing instead of waiting forever.
    previous?.abandon();
    await bytes.close();
  }
}

interface LocalHeader {
  name: string;
  kind: "file" | "directory";
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  mtime: Date;
}

async function readLocalHeader(bytes: ByteSource, what: string): Promise<LocalHeader> {
  const at = bytes.position;
  const fixed = await bytes.read(30);
  const flags = fixed.readUInt16LE(6);
  const method = fixed.readUInt16LE(8);
  const dosTime = fixed.readUInt16LE(10);
  const dosDate = fixed.readUInt16LE(12);
  let crc32 = fixed.readUInt32LE(14);
  let compressedSize = fixed.readUInt32LE(18);
  let size = fixed.readUInt32LE(22);
  const nameBytes = await bytes.read(fixed.readUInt16LE(26));
  const extra = await bytes.read(fixed.readUInt16LE(28));
  // Without the UTF-8 flag a name is CP437; the ASCII names of web content read the same either way.
  const rawName = nameBytes.toString(flags & FLAG_UTF8 ? "utf8" : "latin1");
  if (flags & FLAG_ENCRYPTED) throw corrupt(what, `${quoted(rawName)} is encrypted, which is not supported`);
  if (method !== METHOD_STORE && method !== METHOD_DEFLATE) throw corrupt(what, `${quoted(rawName)} uses compression method ${method}; only stored and deflated entries are supported`);
  const zip64 = field(extra, 0x0001);
  if (zip64) {
    // The Zip64 field holds the sizes whose 32-bit fields are 0xFFFFFFFF, uncompressed first.
    let offset = 0;
    if (size === 0xffffffff && zip64.length >= offset + 8) (size = Number(zip64.readBigUInt64LE(offset))), (offset += 8);
    if (compressedSize === 0xffffffff && zip64.length >= offset + 8) compressedSize = Number(zip64.readBigUInt64LE(offset));
    if (flags & FLAG_DATA_DESCRIPTOR && size === 0 && compressedSize === 0 && zip64.length >= 16) {
      size = Number(zip64.readBigUInt64LE(0));
      compressedSize = Number(zip64.readBigUInt64LE(8));
    }
  }
  if (flags & FLAG_DATA_DESCRIPTOR) crc32 = 0;
  const { name, kind } = checkedName(rawName, what, at);
  return { name, kind, flags, method, crc32, compressedSize, size, mtime: entryTime(extra, dosTime, dosDate) };
}

/** Extra field `id`'s data, if the field is there. */
function field(extra: Buffer, id: number): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const length = extra.readUInt16LE(at + 2);
    if (extra.readUInt16LE(at) === id) return extra.subarray(at + 4, Math.min(extra.length, at + 4 + length));
    at += 4 + length;
  }
  return undefined;
}

function entryTime(extra: Buffer, time: number, date: number): Date {
  const timestamp = field(extra, 0x5455);
  if (timestamp && timestamp.length >= 5 && timestamp[0]! & 1) return new Date(timestamp.readUInt32LE(1) * 1000);
  const month = Math.max(1, (date >> 5) & 0x0f);
  const day = Math.max(1, date & 0x1f);
  return new Date(Date.UTC(1980 + (date >> 9), month - 1, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2));
}

/** The name as a relative `/` path, or an error naming it: a zip from a server is not trusted to stay inside its folder. */
function checkedName(raw: string, what: string, at: number): { name: string; kind: "file" | "directory" } {
  const slashed = raw.replace(/\\/g, "/");
  const kind = slashed.endsWith("/") ? "directory" : "file";
  const name = slashed.replace(/\/+$/, "");
  const hostile = (problem: string) =>
    new AppBackupError(
      "ARCHIVE_HOSTILE",
      `${capitalized(what)} has an entry ${quoted(raw)} (at byte ${at}) that ${problem}; nothing of it was used.`,
      "The server sent a zip whose names would write outside the folder. Check what answers at this address before trying again.",
    );
  if (raw.includes("\0")) return fail(hostile("contains a NUL character"));
  if (name === "") return fail(hostile("has an empty name"));
  if (name.startsWith("/")) return fail(hostile("is an absolute path"));
  if (/^[A-Za-z]:/.test(name)) return fail(hostile("names a drive"));
  const segments = name.split("/");
  if (segments.includes("..")) return fail(hostile("has a .. segment"));
  if (segments.some((segment) => segment === "" || segment === ".")) return fail(hostile("has an empty or . segment"));
  return { name, kind };
}

function fail(error: Error): never {
  throw error;
}

/**
 * Walks the central directory to the end record, so that a zip cut anywhere (even after
 * its last entry) is an error rather than a short list.
 */
async function readCentralDirectory(bytes: ByteSource, what: string): Promise<void> {
  for (;;) {
    const signature = await bytes.peekUInt32();
    if (signature === SIGNATURE.centralHeader) {
      const fixed = await bytes.read(46);
      await bytes.skip(fixed.readUInt16LE(28) + fixed.readUInt16LE(30) + fixed.readUInt16LE(32));
    } else if (signature === SIGNATURE.zip64EndOfCentralDirectory) {
      const fixed = await bytes.read(12);
      await bytes.skip(Number(fixed.readBigUInt64LE(4)));
    } else if (signature === SIGNATURE.zip64Locator) {
      await bytes.skip(20);
    } else if (signature === SIGNATURE.endOfCentralDirectory) {
      const fixed = await bytes.read(22);
      await bytes.skip(fixed.readUInt16LE(20));
      return;
    } else {
      throw corrupt(what, `an unexpected record (signature 0x${signature.toString(16).padStart(8, "0")}) in the central directory at byte ${bytes.position}`);
    }
  }
}

/**
 * One entry's compressed bytes as they come off the source, and the readable that
 * inflates and checks them. Only one pull is in flight at a time, whether the caller's
 * readable or `skipRest` asks.
 */
class EntryBody {
  readonly entry: StreamedZipEntry;
  private remaining: number;
  private finished = false;
  private pulling: Promise<Buffer | null> | undefined;
  private emitted = 0;
  private readonly streamed: boolean;
  private descriptor: { crc32: number; compressedSize: number; size: number } | undefined;
  private readonly content: Readable;
  private source: Readable | undefined;

  constructor(
    private readonly bytes: ByteSource,
    private readonly header: LocalHeader,
    private readonly what: string,
  ) {
    this.streamed = (header.flags & FLAG_DATA_DESCRIPTOR) !== 0;
    this.remaining = this.streamed ? Number.POSITIVE_INFINITY : header.compressedSize;
    if (!this.streamed && header.compressedSize === 0) this.finished = true;
    this.content = this.contentStream();
    // A caller that never reads the content must not have its errors thrown as uncaught;
    // one that reads it gets them all the same.
    this.content.on("error", () => {});
    this.entry = {
      name: header.name,
      kind: header.kind,
      size: this.streamed ? undefined : header.size,
      mtime: header.mtime,
      content: this.content,
    };
  }

  /** The next piece of compressed data, or null at the entry's end. */
  pull(): Promise<Buffer | null> {
    const next = (this.pulling ?? Promise.resolve(null)).then(() => this.pullNow());
    this.pulling = next.catch(() => null);
    return next;
  }

  private async pullNow(): Promise<Buffer | null> {
    if (this.finished) return null;
    if (!this.streamed) {
      const piece = await this.bytes.readUpTo(Math.min(this.remaining, 256 * 1024));
      this.remaining -= piece.length;
      if (this.remaining === 0) this.finished = true;
      return piece;
    }
    return this.pullUntilDescriptor();
  }

  /** Compressed bytes up to the descriptor that closes this entry; see the module comment. */
  private async pullUntilDescriptor(): Promise<Buffer | null> {
    for (;;) {
      const window = this.bytes.buffered();
      const found = findDescriptor(window, this.emitted);
      if (found) {
        const data = this.bytes.take(found.dataLength);
        this.bytes.take(found.descriptorLength);
        this.descriptor = found.values;
        this.finished = true;
        this.emitted += data.length;
        return data;
      }
      const safe = window.length - DESCRIPTOR_LOOKAHEAD;
      if (safe > 0) {
        const data = this.bytes.take(safe);
        this.emitted += data.length;
        return data;
      }
      if (!(await this.bytes.fill())) {
        throw truncated(this.what, `inside ${quoted(this.header.name)}`, this.bytes.position + window.length);
      }
    }
  }

  private contentStream(): Readable {
    const body = this;
    async function* compressed(): AsyncGenerator<Buffer> {
      for (;;) {
        const piece = await body.pull();
        if (piece === null) return;
        if (piece.length > 0) yield piece;
      }
    }
    const check = new CheckedContent(this);
    const source = Readable.from(compressed(), { objectMode: false });
    this.source = source;
    if (this.header.method === METHOD_STORE) return source.pipe(check.stream(source));
    const inflate = zlib.createInflateRaw();
    source.on("error", (error) => inflate.destroy(error));
    inflate.on("error", (error) => check.fail(this.inflateError(error)));
    return source.pipe(inflate).pipe(check.stream(inflate));
  }

  private inflateError(error: Error): Error {
    if (error instanceof AppBackupError) return error;
    return corrupt(this.what, `${quoted(this.header.name)} could not be inflated (${error.message})`);
  }

  /** What the entry's content must come to, known once its compressed bytes are all read. */
  expected(): { crc32: number | undefined; size: number } {
    if (this.descriptor) return { crc32: this.descriptor.crc32, size: this.descriptor.size };
    return { crc32: this.header.crc32, size: this.header.size };
  }

  setSize(size: number): void {
    this.entry.size = size;
  }

  get entryName(): string {
    return this.header.name;
  }

  get description(): string {
    return this.what;
  }

  /** Reads past whatever of the entry the caller left unread. */
  async skipRest(): Promise<void> {
    if (!this.content.readableEnded && !this.content.destroyed) this.content.destroy();
    this.source?.destroy();
    while ((await this.pull()) !== null);
  }

  abandon(): void {
    if (!this.content.readableEnded && !this.content.destroyed) {
      this.content.destroy(new Error(`The read of ${this.what} stopped before ${quoted(this.header.name)} was read to its end.`));
    }
  }
}

/** Counts and checksums inflated bytes; fails the stream when they do not match the header or the descriptor. */
class CheckedContent {
  private crc = 0;
  private size = 0;
  private output: Readable | undefined;

  constructor(private readonly body: EntryBody) {}

  stream(upstream: Readable): Transform {
    const self = this;
    const transform = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        self.crc = zlib.crc32(chunk, self.crc);
        self.size += chunk.length;
        done(null, chunk);
      },
      flush(done) {
        const expected = self.body.expected();
        if (self.size !== expected.size) {
          done(corrupt(self.body.description, `${quoted(self.body.entryName)} came to ${self.size} bytes where the zip says ${expected.size}`));
          return;
        }
        if (expected.crc32 !== undefined && self.crc !== expected.crc32) {
          done(corrupt(self.body.description, `${quoted(self.body.entryName)} does not match its CRC-32`));
          return;
        }
        self.body.setSize(self.size);
        done();
      },
    });
    upstream.on("error", (error) => transform.destroy(error));
    this.output = transform;
    return transform;
  }

  fail(error: Error): void {
    this.output?.destroy(error);
  }
}

interface FoundDescriptor {
  /** Bytes of the window before the descriptor: the rest of the entry's data. */
  dataLength: number;
  descriptorLength: number;
  values: { crc32: number; compressedSize: number; size: number };
}

/**
 * The descriptor in `window` (which starts `before` bytes into the entry's data) that is
 * followed by a local or central header signature and whose compressed size is exactly
 * the data before it. Tried in the order writers use: with the signature and 32-bit sizes
 * (.NET, Info-ZIP), with 64-bit sizes (past 4 GiB, or after a Zip64 field), then the
 * signature-less forms the format allows.
 */
function findDescriptor(window: Buffer, before: number): FoundDescriptor | undefined {
  const forms = [
    { length: 16, signature: true, wide: false },
    { length: 24, signature: true, wide: true },
    { length: 12, signature: false, wide: false },
    { length: 20, signature: false, wide: true },
  ];
  for (let next = window.indexOf("PK", 0, "latin1"); next !== -1; next = window.indexOf("PK", next + 1, "latin1")) {
    if (next + 4 > window.length) break;
    const signature = window.readUInt32LE(next);
    if (signature !== SIGNATURE.localHeader && signature !== SIGNATURE.centralHeader) continue;
    for (const form of forms) {
      const start = next - form.length;
      if (start < 0) continue;
      let at = start;
      if (form.signature) {
        if (window.readUInt32LE(at) !== SIGNATURE.dataDescriptor) continue;
        at += 4;
      }
      const crc32 = window.readUInt32LE(at);
      const compressedSize = form.wide ? Number(window.readBigUInt64LE(at + 4)) : window.readUInt32LE(at + 4);
      const size = form.wide ? Number(window.readBigUInt64LE(at + 12)) : window.readUInt32LE(at + 8);
      if (compressedSize === before + start) return { dataLength: start, descriptorLength: form.length, values: { crc32, compressedSize, size } };
    }
  }
  return undefined;
}

/** The source's bytes, pulled as needed; a read past its end is a truncated zip. */
class ByteSource {
  private buffer: Buffer = Buffer.alloc(0);
  private consumed = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer | Uint8Array>;

  constructor(
    source: AsyncIterable<Buffer | Uint8Array>,
    private readonly what: string,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Offset in the zip of the next byte to be read. */
  get position(): number {
    return this.consumed;
  }

  buffered(): Buffer {
    return this.buffer;
  }

  /** Pulls one more chunk; false at the end of the source. */
  async fill(): Promise<boolean> {
    if (this.ended) return false;
    const { value, done } = await this.iterator.next();
    if (done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }

  take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    this.consumed += taken.length;
    return taken;
  }

  async read(length: number): Promise<Buffer> {
    while (this.buffer.length < length) {
      if (!(await this.fill())) throw truncated(this.what, "in a header", this.consumed + this.buffer.length);
    }
    return Buffer.from(this.take(length));
  }

  /** Between 1 and `length` bytes. */
  async readUpTo(length: number): Promise<Buffer> {
    if (this.buffer.length === 0 && !(await this.fill())) throw truncated(this.what, "inside an entry", this.consumed);
    return this.take(Math.min(length, this.buffer.length));
  }

  async skip(length: number): Promise<void> {
    for (let left = length; left > 0; ) left -= (await this.readUpTo(left)).length;
  }

  async peekUInt32(): Promise<number> {
    while (this.buffer.length < 4) {
      if (!(await this.fill())) throw truncated(this.what, this.consumed === 0 && this.buffer.length === 0 ? "before its first record (it is empty)" : "between records", this.consumed + this.buffer.length);
    }
    return this.buffer.readUInt32LE(0);
  }

  async close(): Promise<void> {
    if (!this.ended) await this.iterator.return?.();
  }
}

function truncated(what: string, where: string, at: number): AppBackupError {
  return new AppBackupError(
    "HOME_UNREACHABLE",
    `${capitalized(what)} ended ${where}, after ${at} bytes: it was cut off before its end.`,
    "The connection dropped or the server stopped sending; nothing read from it was kept. Run again.",
  );
}

function corrupt(what: string, detail: string): AppBackupError {
  return new AppBackupError("HOME_UNREACHABLE", `${capitalized(what)} is not a zip that can be read: ${detail}.`, "The server sent something other than a whole zip. Run again; if it persists, download it by hand and check it with `unzip -t`.");
}

function quoted(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
