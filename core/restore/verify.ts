import { ZipFormatError } from "../archive/errors.js";
import { readZipIndex, type ZipIndex } from "../archive/zip-index.js";
import { restorableStatuses, type BackupStatus } from "../format/manifest.js";
import type { AppBackupOptions } from "../options.js";
import type { Progress } from "../progress.js";
import { archiveProblems } from "./archive-check.js";
import { compareWithManifest, pairEntries, type Difference } from "./compare.js";
import { extractEntries, type ExtractItem } from "./extract.js";
import { openBackupSource, type BackupSelection } from "./source.js";
import { zipSourceOf } from "./store-source.js";

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
  const source = await openBackupSource(options, run);
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
  if (!restorableStatuses.has(manifest.status) || !manifest.zip) {
    result.notRestorable = `Backup ${source.name} is ${manifest.status}${manifest.error ? `: ${manifest.error}` : ""}. It cannot be restored.`;
    return result;
  }
  if (!(await source.store.exists(source.zipName))) {
    result.differences.push({ name: "(zip)", difference: `the zip ${source.store.urlOf(source.zipName)} is missing` });
    return result;
  }

  const zipSource = await zipSourceOf(source.store, source.zipName);
  try {
    let zip: ZipIndex;
    try {
      zip = await readZipIndex(zipSource);
    } catch (error) {
      if (!(error instanceof ZipFormatError)) throw error;
      result.differences.push({ name: "(zip)", difference: error.message });
      return result;
    }
    // The home plus a staging suffix: where a restore into this app would write.
    const stagingRoot = `${options.app.home}.restore-000000000000`;
    for (const problem of archiveProblems(zip, { roots: [stagingRoot] })) {
      result.differences.push({ name: problem.name, difference: `unsafe: ${problem.problem}` });
    }
    const { entries } = source;
    const pairs = pairEntries(entries, zip.table);
    result.differences.push(...compareWithManifest(manifest, entries, zip, pairs));

    if (run.readData) {
      const items: ExtractItem[] = [];
      const linkRows = new Map<string, number>();
      const read = new Uint8Array(zip.table.count);
      for (let index = 0; index < entries.count; index++) {
        const row = pairs[index]!;
        if (row < 0 || read[row] || entries.kind(index) === "directory" || zip.table.kinds[row] === 1) continue;
        read[row] = 1;
        if (entries.kind(index) === "symlink") linkRows.set(entries.names[index]!, index);
        items.push({
          name: entries.names[index]!,
          zipIndex: row,
          digestIndex: index,
          checkCrc: true,
          returnData: entries.kind(index) === "symlink",
        });
      }
      const totalBytes = items.reduce((sum, i) => sum + zip.table.sizes[i.zipIndex]!, 0);
      const content = await extractEntries(zipSource, zip, items, {
        digests: entries,
        onCorrupt: (failure) => result.differences.push({ name: failure.entryName, difference: `content: ${failure.reason}` }),
        onProgress: (p) => {
          result.entriesRead = p.files;
          result.bytesRead = p.bytes;
          run.onProgress?.({ phase: "verify", files: p.files, totalFiles: items.length, bytes: p.bytes, totalBytes, bytesOut: 0 });
        },
      });
      for (const [name, data] of content) {
        const expected = entries.linkTargets.get(linkRows.get(name) ?? -1);
        const target = data.toString("utf8");
        if (expected !== undefined && expected !== target) {
          result.differences.push({ name, difference: `the symlink points to ${JSON.stringify(target)} in the zip, to ${JSON.stringify(expected)} in the manifest` });
        }
      }
    }
  } finally {
    await zipSource.close?.();
  }
  result.ok = result.differences.length === 0;
  result.restorable = result.ok;
  return result;
}
