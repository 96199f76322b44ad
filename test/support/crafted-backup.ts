import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";
import type { ArchiveEntry } from "../../core/archive/types.js";
import { encodeCentralHeader, encodeEndOfCentralDirectory, encodeLocalHeader, METHOD_DEFLATE, METHOD_STORE, type CentralFields } from "../../core/archive/zip-format.js";
import type { BackupManifest } from "../../core/format/manifest.js";
import { manifestToXml } from "../../core/format/manifest-xml.js";
import type { TestApp } from "./test-app.js";

/** Content given as `zeros` bytes of zero (made and compressed piece by piece, never held whole) or as bytes. */
export type CraftedContent = { zeros: number } | { bytes: Buffer };

export interface CraftedEntry {
  name: string;
  /** Unix mode with type bits. */
  mode: number;
  content: CraftedContent;
  method?: "deflate" | "store";
  /**
   * The uncompressed size written into the zip and the manifest, when it must
   * differ from the content's real size (a zip bomb declares less than it holds).
   */
  declaredSize?: number;
  /** Bytes of zeros after the entry's data, before the next entry: space no entry claims. */
  gapAfter?: number;
}

interface PackedEntry {
  data: Buffer;
  size: number;
  crc32: number;
  sha256: string;
}

const PIECE = 1024 * 1024;

/** Compresses (or stores) the content piece by piece; only the compressed bytes are kept. */
async function pack(content: CraftedContent, method: "deflate" | "store"): Promise<PackedEntry> {
  const hash = createHash("sha256");
  let crc = 0;
  let size = 0;
  const pieces: Buffer[] = [];
  const deflate = method === "deflate" ? zlib.createDeflateRaw({ level: 9 }) : undefined;
  deflate?.on("data", (chunk: Buffer) => pieces.push(chunk));
  const ended = deflate ? new Promise((resolve, reject) => deflate.on("end", resolve).on("error", reject)) : Promise.resolve();
  const feed = async (piece: Buffer) => {
    hash.update(piece);
    crc = zlib.crc32(piece, crc);
    size += piece.length;
    if (!deflate) pieces.push(Buffer.from(piece));
    else if (!deflate.write(piece)) await new Promise((resolve) => deflate.once("drain", resolve));
  };
  if ("bytes" in content) await feed(content.bytes);
  else {
    const zeros = Buffer.alloc(PIECE);
    for (let left = content.zeros; left > 0; left -= PIECE) await feed(left >= PIECE ? zeros : zeros.subarray(0, left));
  }
  deflate?.end();
  await ended;
  return { data: Buffer.concat(pieces), size, crc32: crc >>> 0, sha256: hash.digest("hex") };
}

const MTIME = new Date("2024-05-06T07:08:10.000Z");
const kindOf = (mode: number): ArchiveEntry["kind"] => ((mode & 0o170000) === 0o040000 ? "directory" : (mode & 0o170000) === 0o120000 ? "symlink" : "file");

/** A crafted backup in memory: the zip's bytes and a manifest that agrees with it, entry for entry. */
export async function craftBackup(name: string, entries: CraftedEntry[]): Promise<{ zip: Buffer; manifest: BackupManifest }> {
  const parts: Buffer[] = [];
  const central: CentralFields[] = [];
  const manifestEntries: ArchiveEntry[] = [];
  let offset = 0;
  for (const entry of entries) {
    const method = entry.method ?? "deflate";
    const packed = await pack(entry.content, method);
    const fields: CentralFields = {
      name: entry.name,
      method: method === "deflate" ? METHOD_DEFLATE : METHOD_STORE,
      crc32: packed.crc32,
      compressedSize: packed.data.length,
      size: entry.declaredSize ?? packed.size,
      mtime: MTIME,
      streamed: false,
      mode: entry.mode,
      localHeaderOffset: offset,
    };
    const header = encodeLocalHeader(fields);
    const gap = Buffer.alloc(entry.gapAfter ?? 0);
    parts.push(header, packed.data, gap);
    offset += header.length + packed.data.length + gap.length;
    central.push(fields);
    manifestEntries.push({
      name: entry.name,
      kind: kindOf(entry.mode),
      size: fields.size,
      compressedSize: fields.compressedSize,
      method,
      crc32: fields.crc32,
      sha256: packed.sha256,
      mtime: MTIME,
      mode: entry.mode,
      ...(kindOf(entry.mode) === "symlink" && "bytes" in entry.content ? { linkTarget: entry.content.bytes.toString() } : {}),
    });
  }
  const directory = Buffer.concat(central.map(encodeCentralHeader));
  parts.push(directory, encodeEndOfCentralDirectory(central.length, offset, directory.length));
  const zip = Buffer.concat(parts);
  const manifest: BackupManifest = {
    formatVersion: 1,
    appName: "shop",
    backupName: name,
    status: "Succeeded",
    trigger: "OnDemand",
    startedAt: MTIME,
    finishedAt: MTIME,
    toolVersion: "0.1.0",
    zip: { name: `${name}.zip`, sizeBytes: zip.length },
    contentBytes: manifestEntries.reduce((sum, e) => sum + e.size, 0),
    files: manifestEntries.filter((e) => e.kind === "file").length,
    origin: {},
    filter: { source: "", lines: [] },
    warnings: [],
    databases: [],
    skipped: [],
    entries: manifestEntries,
  };
  return { zip, manifest };
}

/**
 * Writes `{name}.zip` and its `{name}.xml` manifest into the app's local
 * container: a backup as app-backup would list it, whose content may still be
 * hostile (sizes that lie). `editManifest` alters the manifest's XML first.
 */
export async function plantCraftedBackup(app: TestApp, name: string, entries: CraftedEntry[], editManifest: (xml: string) => string = (xml) => xml): Promise<void> {
  const { zip, manifest } = await craftBackup(name, entries);
  await mkdir(app.backups, { recursive: true });
  await writeFile(path.join(app.backups, `${name}.zip`), zip);
  await writeFile(path.join(app.backups, `${name}.xml`), editManifest(manifestToXml(manifest)));
}

export const metaEntry: CraftedEntry = {
  name: "meta",
  mode: 0o100644,
  content: { bytes: Buffer.from('<?xml version="1.0"?><AppConfiguration formatVersion="1"><Name>shop</Name></AppConfiguration>') },
};

