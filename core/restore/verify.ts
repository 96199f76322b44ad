import { extractEntries, type ExtractItem } from "../archive/extract.js";
import type { BackupStatus } from "../format/manifest.js";
import type { AppBackupOptions } from "../options.js";
import type { Progress } from "../progress.js";
import { manifestRowsInZipOrder, type Difference, type EntryPairs } from "./compare.js";
import type { EntryTable } from "../archive/entry-table.js";
import { NameIndex } from "../archive/name-table.js";
import { preflight, type CheckedArchive, type Refusal } from "./preflight.js";
import type { BackupSelection, BackupSource } from "./source.js";

export interface VerifyRunOptions extends BackupSelection {
  /** Re-read every entry and check its size, CRC-32 and SHA-256. */
  readData?: boolean;
  /** Verifying writes nothing, so `bytesOut` stays 0. */
  onProgress?: (progress: Progress<"verify">) => void;
}

export interface VerifyResult {
  backup: string;
  /** The backup's status as recorded. */
  backupStatus: BackupStatus;
  /** Restorable: Succeeded or PartiallySucceeded, with a zip that matches its manifest. */
  restorable: boolean;
  /** True when every check passed. */
  ok: boolean;
  readData: boolean;
  entries: number;
  /** Entries whose content was read and checked (with `readData`). */
  entriesRead: number;
  bytesRead: number;
  differences: Difference[];
  /** Why the backup cannot be restored whatever its zip holds (a Failed backup). */
  notRestorable?: string;
}

/**
 * Checks a backup without restoring it: its status, the zip's central
 * directory against the manifest (names, kinds, sizes, CRC-32, modes), the
 * zip's own safety (names, types, overlapping data), and with `readData`
 * every entry's content against its SHA-256.
 */
export async function verifyBackup(options: AppBackupOptions, run: VerifyRunOptions): Promise<VerifyResult> {
  // The home plus a staging suffix: where a restore into this app would write.
  const checked = await preflight(options, run, { stagingRoot: () => `${options.app.home}.restore-000000000000` });
  const { source, refusal, archive } = checked;
  const { manifest } = source;
  const result: VerifyResult = {
    backup: source.name,
    backupStatus: manifest.status,
    restorable: false,
    ok: false,
    readData: Boolean(run.readData),
    entries: source.entries.count,
    entriesRead: 0,
    bytesRead: 0,
    differences: [],
  };
  try {
    if (refusal) return refused(result, source, refusal);
    for (const problem of archive.unsafe) result.differences.push({ name: problem.name, difference: `unsafe: ${problem.problem}` });
    result.differences.push(...archive.differences);
    if (run.readData) await readContent(source, archive, result, run);
  } finally {
    await archive?.zipSource.close?.();
    source.entries.close();
  }
  result.ok = result.differences.length === 0;
  result.restorable = result.ok;
  return result;
}

/** A backup whose zip was not read: the result says why. */
function refused(result: VerifyResult, source: BackupSource, refusal: Refusal): VerifyResult {
  switch (refusal.reason) {
    case "not restorable":
      result.notRestorable = `Backup ${source.name} is ${source.manifest.status}${source.manifest.error ? `: ${source.manifest.error}` : ""}. It cannot be restored.`;
      break;
    case "zip missing":
      result.differences.push({ name: "(zip)", difference: `the zip ${source.store.urlOf(source.zipName)} is missing` });
      break;
    case "zip cannot be opened":
      throw refusal.error;
    case "zip unreadable":
      result.differences.push({ name: "(zip)", difference: refusal.error.message });
      break;
  }
  return result;
}

/** Every entry's content read and checked against its size, CRC-32 and SHA-256 (and a symlink's target against the manifest's). */
async function readContent(source: BackupSource, archive: CheckedArchive, result: VerifyResult, run: VerifyRunOptions): Promise<void> {
  const { entries } = source;
  const { zip, pairs } = archive;
  const reads = () => rowsToRead(entries, zip.table, pairs);
  let totalFiles = 0;
  let totalBytes = 0;
  for (const index of reads()) {
    totalFiles++;
    totalBytes += zip.table.sizes[pairs.of(index)]!;
  }
  // Made as the extraction pulls them: no object per entry is held.
  const items = (function* (): Generator<ExtractItem> {
    for (const index of reads()) {
      const isLink = entries.kinds[index] === SYMLINK;
      yield { name: entries.name(index), zipIndex: pairs.of(index), digestIndex: index, checkCrc: true, returnData: isLink };
    }
  })();
  const content = await extractEntries(archive.zipSource, zip, items, {
    digests: entries,
    onCorrupt: (failure) => result.differences.push({ name: failure.entryName, difference: `content: ${failure.reason}` }),
    onProgress: (p) => {
      result.entriesRead = p.files;
      result.bytesRead = p.bytes;
      run.onProgress?.({ phase: "verify", files: p.files, totalFiles, bytes: p.bytes, totalBytes, bytesOut: 0 });
    },
  });
  // Only symlinks' content comes back, by name: their rows are found once, for these few names.
  const byName = content.size ? new NameIndex(entries.names, entries.count) : undefined;
  if (byName) for (let index = 0; index < entries.count; index++) if (entries.kinds[index] === SYMLINK) byName.add(index);
  for (const [name, data] of content) {
    const expected = entries.linkTargets.get(byName!.findKey(name));
    const target = data.toString("utf8");
    if (expected !== undefined && expected !== target) {
      result.differences.push({ name, difference: `the symlink points to ${JSON.stringify(target)} in the zip, to ${JSON.stringify(expected)} in the manifest` });
    }
  }
}

/** Manifest rows whose content is read, in zip order: one per zip entry with content. */
function* rowsToRead(entries: EntryTable, zip: EntryTable, pairs: EntryPairs): Generator<number> {
  const read = new Uint8Array(zip.count);
  for (const index of manifestRowsInZipOrder(pairs, zip)) {
    const row = pairs.of(index);
    if (read[row] || entries.kinds[index] === DIRECTORY || zip.kinds[row] === DIRECTORY) continue;
    read[row] = 1;
    yield index;
  }
}

const DIRECTORY = 1;
const SYMLINK = 2;
