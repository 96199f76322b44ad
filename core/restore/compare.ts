import type { EntryTable } from "../archive/entry-table.js";
import { NameIndex } from "../archive/name-table.js";
import { METHOD_DEFLATE, METHOD_STORE } from "../archive/zip-format.js";
import { inZipOrder, zipOrder, type ZipIndex } from "../archive/zip-index.js";
import { AppBackupError } from "../errors.js";
import type { DatabaseRecord, ManifestSummary } from "../format/manifest.js";

/** One way the zip differs from what its manifest says. */
export interface Difference {
  /** Entry name, or `(zip)` / `(manifest)` for the whole file. */
  name: string;
  difference: string;
}

const methodName = (method: number) => (method === METHOD_DEFLATE ? "deflate" : method === METHOD_STORE ? "store" : `method ${method}`);

/**
 * For each manifest entry, its row in the zip (-1 when missing). The usual
 * pairing, a manifest that lists its zip's entries in order, is the identity
 * and holds nothing; any other holds 4 bytes a row.
 */
export class EntryPairs {
  private constructor(
    readonly length: number,
    private readonly rows: Int32Array | undefined,
  ) {}

  static identity(length: number): EntryPairs {
    return new EntryPairs(length, undefined);
  }

  static of(rows: Int32Array): EntryPairs {
    return new EntryPairs(rows.length, rows);
  }

  /** True when manifest entry i is zip row i for every entry. */
  get isIdentity(): boolean {
    return this.rows === undefined;
  }

  /** The zip row of manifest entry `index`, or -1. */
  of(index: number): number {
    return this.rows ? this.rows[index]! : index;
  }
}

/**
 * Pairs each manifest entry with its entry in the zip. The manifest lists
 * entries in the zip's order, so this is usually the identity (and the zip
 * shares the manifest's names); otherwise entries are matched by name
 * through a hash of the zip's names.
 */
export function pairEntries(manifest: EntryTable, zip: EntryTable): EntryPairs {
  let sameOrder = manifest.count === zip.count;
  if (sameOrder && manifest.names !== zip.names) {
    for (let i = 0; sameOrder && i < manifest.count; i++) sameOrder = manifest.names.equals(i, zip.names, i);
    // The same names in the same order: held once.
    if (sameOrder) zip.names = manifest.names;
  }
  if (sameOrder) return EntryPairs.identity(manifest.count);
  const pairs = new Int32Array(manifest.count);
  const inZip = new NameIndex(zip.names, zip.count);
  for (let row = 0; row < zip.count; row++) inZip.add(row);
  const names = manifest.names;
  for (let index = 0; index < manifest.count; index++) {
    const name = names.bytes(index);
    pairs[index] = inZip.find(name, 0, name.length);
  }
  return EntryPairs.of(pairs);
}

/**
 * Manifest rows in the order of their data in the zip (rows missing from the
 * zip left out): what reads the zip front to back hands its entries over in.
 */
export function* manifestRowsInZipOrder(pairs: EntryPairs, zip: EntryTable): Generator<number> {
  // Rows already in data order (the usual case) are read as they are: no order is held.
  const order = inZipOrder(zip) ? undefined : zipOrder(zip);
  const identity = pairs.isIdentity && pairs.length === zip.count;
  // For each zip row its manifest row, unless they are the same (the usual case).
  const manifestRow = identity ? undefined : new Int32Array(zip.count).fill(-1);
  if (manifestRow) for (let index = pairs.length - 1; index >= 0; index--) if (pairs.of(index) >= 0) manifestRow[pairs.of(index)] = index;
  for (let i = 0; i < zip.count; i++) {
    const zipRow = order ? order[i]! : i;
    const index = manifestRow ? manifestRow[zipRow]! : zipRow;
    if (index >= 0) yield index;
  }
}

/**
 * The manifest against the zip's central directory: the same names, kinds,
 * sizes, CRC-32s, compression and modes, and database dumps that are in the zip.
 * Content itself is checked by reading it (SHA-256), elsewhere.
 */
export function compareWithManifest(summary: ManifestSummary, manifest: EntryTable, zip: ZipIndex, pairs: EntryPairs): Difference[] {
  const differences: Difference[] = [];
  if (summary.zip && summary.zip.sizeBytes !== zip.size) {
    differences.push({ name: "(zip)", difference: `the zip is ${zip.size} bytes, the manifest says ${summary.zip.sizeBytes}` });
  }
  const identity = pairs.isIdentity && manifest.count === zip.table.count;
  // Paired one to one in order, the two lists hold the same names; otherwise names are checked both ways.
  const seen = identity ? undefined : new NameIndex(manifest.names, manifest.count);
  // Only needed to find the zip's rows no manifest entry names, which a one-to-one pairing leaves none of.
  const paired = seen ? new Uint8Array(zip.table.count) : undefined;
  for (let index = 0; index < manifest.count; index++) {
    // Names are made only for what is reported.
    if (seen && seen.add(index) >= 0) differences.push({ name: manifest.name(index), difference: "listed twice in the manifest" });
    const actual = pairs.of(index);
    if (actual < 0) {
      differences.push({ name: manifest.name(index), difference: "in the manifest but not in the zip" });
      continue;
    }
    if (paired) paired[actual] = 1;
    if (!agrees(manifest, index, zip.table, actual)) {
      for (const fact of disagreements(manifest, index, zip.table, actual)) differences.push({ name: manifest.name(index), difference: fact });
    }
  }
  if (seen) {
    const names = zip.table.names;
    for (let index = 0; index < zip.table.count; index++) {
      if (paired![index]) continue;
      const name = names.bytes(index);
      if (seen.find(name, 0, name.length) >= 0) continue;
      differences.push({ name: names.get(index), difference: "in the zip but not in the manifest" });
    }
  }
  for (const db of summary.databases) {
    const difference = databaseDifference(db, manifest);
    if (difference) differences.push({ name: db.entry, difference });
  }
  return differences;
}

function databaseDifference(db: DatabaseRecord, manifest: EntryTable): string | undefined {
  const index = manifest.names.indexOf(db.entry);
  if (index < 0) return `the dump of database ${db.connectionStringName} is not among the manifest's entries`;
  if (manifest.sha256Hex(index) !== db.sha256 || manifest.sizes[index] !== db.sizeBytes) {
    return `the database record of ${db.connectionStringName} does not match its entry (size or SHA-256)`;
  }
  return undefined;
}

/** The common case, checked without allocating. */
function agrees(m: EntryTable, i: number, z: EntryTable, j: number): boolean {
  if (m.kinds[i] !== z.kinds[j] || m.sizes[i] !== z.sizes[j] || (m.modes[i]! & 0o7777) !== (z.modes[j]! & 0o7777)) return false;
  if (m.kinds[i] === 1) return true;
  return (
    m.crc32s[i] === z.crc32s[j] &&
    m.compressedSizes[i] === z.compressedSizes[j] &&
    m.methods[i] === z.methods[j] &&
    m.hasSha256[i] === 1 &&
    (m.kinds[i] !== 2 || m.linkTargets.has(i))
  );
}

function disagreements(m: EntryTable, i: number, z: EntryTable, j: number): string[] {
  const facts: string[] = [];
  const expectedKind = m.kind(i) ?? "unknown kind of entry";
  const isDirectory = m.kinds[i] === 1;
  if (m.kinds[i] !== z.kinds[j]) facts.push(`is a ${z.kind(j)} in the zip, a ${expectedKind} in the manifest`);
  if (m.sizes[i] !== z.sizes[j]) facts.push(`size ${z.sizes[j]} in the zip, ${m.sizes[i]} in the manifest`);
  if (!isDirectory && m.crc32s[i] !== z.crc32s[j]) facts.push(`CRC-32 ${hex(z.crc32s[j]!)} in the zip, ${hex(m.crc32s[i]!)} in the manifest`);
  if (!isDirectory && m.compressedSizes[i] !== z.compressedSizes[j]) {
    facts.push(`compressed size ${z.compressedSizes[j]} in the zip, ${m.compressedSizes[i]} in the manifest`);
  }
  if (!isDirectory && m.methods[i] !== z.methods[j]) {
    facts.push(`compression ${methodName(z.methods[j]!)} in the zip, ${m.methods[i] === 0xffff ? "unknown" : methodName(m.methods[i]!)} in the manifest`);
  }
  if ((m.modes[i]! & 0o7777) !== (z.modes[j]! & 0o7777)) {
    facts.push(`mode ${(z.modes[j]! & 0o7777).toString(8)} in the zip, ${(m.modes[i]! & 0o7777).toString(8)} in the manifest`);
  }
  if (m.kinds[i] === 2 && !m.linkTargets.has(i)) facts.push("the manifest lacks the symlink's target");
  if (!isDirectory && !m.hasSha256[i]) facts.push("the manifest lacks the entry's SHA-256");
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
