import type { ArchiveEntry } from "../archive/types.js";
import type { ZipEntryInfo } from "../archive/zip-reader.js";
import { METHOD_DEFLATE, METHOD_STORE } from "../archive/zip-format.js";
import { AppBackupError } from "../errors.js";
import type { BackupManifest } from "../manifest/manifest.js";

/** One way the zip differs from what its manifest says. */
export interface Difference {
  /** Entry name, or `(zip)` / `(manifest)` for the whole file. */
  name: string;
  difference: string;
}

const methodName = (method: number) => (method === METHOD_DEFLATE ? "deflate" : method === METHOD_STORE ? "store" : `method ${method}`);

/**
 * The manifest against the zip's central directory: the same names, kinds,
 * sizes, CRC-32s, compression and modes, and database dumps that are in the zip.
 * Content itself is checked by reading it (SHA-256), elsewhere.
 */
export function compareWithManifest(manifest: BackupManifest, entries: readonly ZipEntryInfo[], zipSize: number): Difference[] {
  const differences: Difference[] = [];
  if (manifest.zip && manifest.zip.sizeBytes !== zipSize) {
    differences.push({ name: "(zip)", difference: `the zip is ${zipSize} bytes, the manifest says ${manifest.zip.sizeBytes}` });
  }
  const inZip = new Map<string, ZipEntryInfo>();
  for (const entry of entries) if (!inZip.has(entry.name)) inZip.set(entry.name, entry);
  const inManifest = new Map<string, ArchiveEntry>();
  for (const entry of manifest.entries) {
    if (inManifest.has(entry.name)) differences.push({ name: entry.name, difference: "listed twice in the manifest" });
    inManifest.set(entry.name, entry);
  }

  for (const expected of manifest.entries) {
    const actual = inZip.get(expected.name);
    if (!actual) {
      differences.push({ name: expected.name, difference: "in the manifest but not in the zip" });
      continue;
    }
    if (!agrees(actual, expected)) {
      for (const fact of disagreements(actual, expected)) differences.push({ name: expected.name, difference: fact });
    }
  }
  for (const entry of entries) {
    if (!inManifest.has(entry.name)) differences.push({ name: entry.name, difference: "in the zip but not in the manifest" });
  }
  for (const db of manifest.databases) {
    const entry = inManifest.get(db.entry);
    if (!entry) {
      differences.push({ name: db.entry, difference: `the dump of database ${db.connectionStringName} is not among the manifest's entries` });
    } else if (entry.sha256 !== db.sha256 || entry.size !== db.sizeBytes) {
      differences.push({ name: db.entry, difference: `the database record of ${db.connectionStringName} does not match its entry (size or SHA-256)` });
    }
  }
  return differences;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The common case, checked without allocating. */
function agrees(actual: ZipEntryInfo, expected: ArchiveEntry): boolean {
  if (actual.kind !== expected.kind || actual.size !== expected.size || (actual.mode & 0o7777) !== (expected.mode & 0o7777)) return false;
  if (expected.kind === "directory") return true;
  return (
    actual.crc32 >>> 0 === expected.crc32 >>> 0 &&
    actual.compressedSize === expected.compressedSize &&
    methodName(actual.method) === expected.method &&
    (expected.kind !== "symlink" || expected.linkTarget !== undefined) &&
    expected.sha256.length === 64 &&
    SHA256_HEX.test(expected.sha256)
  );
}

function disagreements(actual: ZipEntryInfo, expected: ArchiveEntry): string[] {
  const facts: string[] = [];
  if (actual.kind !== expected.kind) facts.push(`is a ${actual.kind} in the zip, a ${expected.kind} in the manifest`);
  if (actual.size !== expected.size) facts.push(`size ${actual.size} in the zip, ${expected.size} in the manifest`);
  if (expected.kind !== "directory" && actual.crc32 >>> 0 !== expected.crc32 >>> 0) {
    facts.push(`CRC-32 ${hex(actual.crc32)} in the zip, ${hex(expected.crc32)} in the manifest`);
  }
  if (expected.kind !== "directory" && actual.compressedSize !== expected.compressedSize) {
    facts.push(`compressed size ${actual.compressedSize} in the zip, ${expected.compressedSize} in the manifest`);
  }
  if (expected.kind !== "directory" && methodName(actual.method) !== expected.method) {
    facts.push(`compression ${methodName(actual.method)} in the zip, ${expected.method} in the manifest`);
  }
  if ((actual.mode & 0o7777) !== (expected.mode & 0o7777)) {
    facts.push(`mode ${(actual.mode & 0o7777).toString(8)} in the zip, ${(expected.mode & 0o7777).toString(8)} in the manifest`);
  }
  if (expected.kind === "symlink" && expected.linkTarget === undefined) facts.push("the manifest lacks the symlink's target");
  if (expected.kind !== "directory" && !SHA256_HEX.test(expected.sha256)) facts.push("the manifest lacks the entry's SHA-256");
  return facts;
}

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

export function mismatchError(differences: Difference[], backup: string): AppBackupError {
  const shown = differences.slice(0, 20).map((d) => `- ${d.name}: ${d.difference}`);
  if (differences.length > shown.length) shown.push(`- and ${differences.length - shown.length} more`);
  return new AppBackupError(
    "BACKUP_CORRUPT",
    `Backup ${backup} does not match its manifest; nothing was changed:\n${shown.join("\n")}`,
    "The zip or the manifest was damaged or altered. Run `app-backup verify` for the full list, and restore another backup.",
  );
}
