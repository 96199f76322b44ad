import XMLBuilder from "fast-xml-builder";
import type { ArchiveEntry } from "../archive/types.js";
import type { DatabaseRecord, ManifestToWrite } from "./manifest.js";
import { attr } from "./xml-names.js";

/** Characters XML 1.0 can hold; a name with anything else is stored base64-encoded. */
const xmlUnsafe = /[^\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The attribute that holds a text: `key="text"`, or `key64="base64"` when XML cannot hold it. */
function textAttribute(key: string, value: string): [name: string, value: string] {
  return xmlUnsafe.test(value) ? [`${key}64`, Buffer.from(value).toString("base64")] : [key, value];
}

function nameAttributes(name: string): Record<string, string> {
  const [key, value] = textAttribute("name", name);
  return { [`${attr}${key}`]: value };
}

/**
 * Entry lines are handed out in pieces of about this many characters: small,
 * so that the lines of a piece are garbage before a collection can find them
 * alive and move them to the old generation.
 */
const CHUNK_CHARS = 16 * 1024;

/**
 * The manifest's XML in pieces, to stream into a store: memory stays flat
 * however many entries the backup has. The head (everything but the entry
 * list) is small and built with the XML builder; the entry list, tens of
 * thousands of lines, is written directly.
 */
export function* manifestXmlChunks(manifest: ManifestToWrite): Generator<string> {
  const root: Record<string, unknown> = {
    [`${attr}formatVersion`]: manifest.formatVersion,
    AppName: manifest.appName,
    BackupName: manifest.backupName,
    Status: manifest.status,
    Trigger: manifest.trigger,
    StartedAt: manifest.startedAt.toISOString(),
    FinishedAt: manifest.finishedAt.toISOString(),
    ToolVersion: manifest.toolVersion,
    ...(manifest.zip ? { Zip: { [`${attr}name`]: manifest.zip.name, [`${attr}sizeBytes`]: manifest.zip.sizeBytes } } : {}),
    ContentSizeInBytes: manifest.contentBytes,
    FileCount: manifest.files,
    ...(manifest.error !== undefined ? { Error: manifest.error } : {}),
    Origin: { Item: Object.entries(manifest.origin).map(([key, value]) => ({ [`${attr}key`]: key, [`${attr}value`]: value })) },
    Filter: { [`${attr}source`]: manifest.filter.source, Line: manifest.filter.lines },
    Warnings: { Warning: manifest.warnings },
    Databases: { Database: manifest.databases.map(databaseToNode) },
    Skipped: { Entry: manifest.skipped.map((s) => ({ ...nameAttributes(s.name), [`${attr}reason`]: s.reason })) },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: attr, format: true, suppressEmptyNode: true });
  const head = builder.build({ BackupManifest: root }) as string;
  const close = head.lastIndexOf("</BackupManifest>");
  yield `<?xml version="1.0" encoding="utf-8"?>\n${head.slice(0, close)}  <Entries count="${manifest.entries.length}">\n`;
  let chunk = "";
  for (const entry of manifest.entries) {
    chunk += entryLine(entry);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  yield `${chunk}  </Entries>\n</BackupManifest>\n`;
}

export function manifestToXml(manifest: ManifestToWrite): string {
  return Array.from(manifestXmlChunks(manifest)).join("");
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}

function attributeText(key: string, value: string): string {
  const [name, text] = textAttribute(key, value);
  return `${name}="${escapeAttribute(text)}"`;
}

function entryLine(entry: ArchiveEntry): string {
  const link = entry.linkTarget !== undefined ? ` ${attributeText("linkTarget", entry.linkTarget)}` : "";
  return (
    `    <Entry ${attributeText("name", entry.name)} kind="${entry.kind}" size="${entry.size}" compressedSize="${entry.compressedSize}"` +
    ` method="${entry.method}" crc32="${entry.crc32.toString(16).padStart(8, "0")}" sha256="${entry.sha256}"` +
    ` mtime="${entry.mtime.toISOString()}" mode="${entry.mode.toString(8)}"${link}/>\n`
  );
}

function databaseToNode(db: DatabaseRecord): Record<string, unknown> {
  return {
    [`${attr}connectionStringName`]: db.connectionStringName,
    [`${attr}databaseType`]: db.databaseType,
    [`${attr}entry`]: db.entry,
    [`${attr}engine`]: db.engine,
    [`${attr}serverVersion`]: db.serverVersion,
    [`${attr}database`]: db.database,
    [`${attr}consistency`]: db.consistency,
    [`${attr}sizeBytes`]: db.sizeBytes,
    [`${attr}sha256`]: db.sha256,
    Table: db.tables.map((t) => ({ [`${attr}name`]: t.name, [`${attr}rows`]: t.rows })),
    NotCovered: db.notCovered,
    Warning: db.warnings,
  };
}
