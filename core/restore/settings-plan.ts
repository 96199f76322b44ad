import type { ExtractPool } from "../archive/extract-pool.js";
import { extractEntries } from "../archive/extract.js";
import { AppBackupError } from "../errors.js";
import type { AppMeta } from "../format/meta.js";
import { parseMeta } from "../format/meta-parse.js";
import { META_ENTRY } from "../format/zip-layout.js";
import type { AppBackupOptions } from "../options.js";
import type { ConfigUpdate } from "./config-update.js";
import type { CheckedArchive } from "./preflight.js";
import type { BackupSource } from "./source.js";

/** The change to the target's configuration file that restoring settings or connection strings makes, read from the backup's meta. */
export async function planConfigUpdate(
  source: BackupSource,
  archive: CheckedArchive,
  target: AppBackupOptions,
  wanted: { settings: boolean; connectionStrings: boolean },
  pool: ExtractPool | undefined,
): Promise<ConfigUpdate | undefined> {
  if (!wanted.settings && !wanted.connectionStrings) return undefined;
  const remote = target.app.remote;
  if (remote?.kind === "app-service") {
    const meta = await readMeta(source, archive, pool);
    const { prepareAppSettingsUpdate } = await import("./app-settings-update.js");
    return prepareAppSettingsUpdate(remote, meta, wanted);
  }
  if (!target.configPath) {
    throw new AppBackupError("USAGE", "Settings and connection strings can only be restored into an app described by a configuration file.");
  }
  const meta = await readMeta(source, archive, pool);
  // Loaded on demand: most restores leave the configuration alone.
  const { prepareConfigUpdate } = await import("./config-update.js");
  return prepareConfigUpdate(target.configPath, meta, wanted);
}

/** The backup's `meta` entry, read and checked against its SHA-256 like every other entry. */
async function readMeta(source: BackupSource, archive: CheckedArchive, pool: ExtractPool | undefined): Promise<AppMeta> {
  const index = source.entries.names.indexOf(META_ENTRY);
  if (index < 0) throw new AppBackupError("BACKUP_CORRUPT", "The backup has no meta entry, so its settings and connection strings cannot be restored.");
  const item = { name: META_ENTRY, zipIndex: archive.pairs.of(index), digestIndex: index, returnData: true };
  let data: Buffer | undefined;
  try {
    data = (await extractEntries(archive.zipSource, archive.zip, [item], { pool, digests: source.entries })).get(META_ENTRY);
  } catch (error) {
    throw new AppBackupError("BACKUP_CORRUPT", `The backup's meta entry cannot be read or does not match its manifest: ${(error as Error).message}; nothing was changed.`);
  }
  return parseMeta(data!.toString("utf8"));
}
