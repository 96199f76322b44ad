import { PassThrough, Transform } from "node:stream";
import type { ZipWriter } from "../archive/zip-writer.js";
import { engineFor } from "../db/index.js";
import { AppBackupError } from "../errors.js";
import type { DatabaseRecord } from "../format/manifest.js";
import { dumpEntryName } from "../format/zip-layout.js";
import type { AppBackupOptions } from "../options.js";
import type { BackupLog } from "./log.js";
import { sizeLimitError } from "./plan.js";

/**
 * Streams each configured database's dump into the zip, one after another, with
 * no temp file; the dumps together may not exceed the database size limit. An
 * abort of `signal` ends the dump under way, its connection included.
 */
export async function archiveDatabases(
  options: AppBackupOptions,
  zip: ZipWriter,
  log: BackupLog,
  startedAt: Date,
  signal?: AbortSignal,
): Promise<DatabaseRecord[]> {
  const records: DatabaseRecord[] = [];
  let databaseBytes = 0;
  for (const ref of options.backup.databases) {
    const connectionString = options.app.connectionStrings[ref.connectionStringName]!;
    const engine = await engineFor(ref.databaseType);
    const target = safeDescribe(() => engine.describe(connectionString.value));
    const entryName = dumpEntryName(ref.connectionStringName);
    log.info(`Dumping ${ref.connectionStringName} (${ref.databaseType}, ${target}).`);

    const dumpOutput = new PassThrough({ highWaterMark: 1024 * 1024 });
    const limited = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        databaseBytes += chunk.length;
        if (databaseBytes > options.backup.databaseMaxSizeBytes) {
          done(sizeLimitError(options.backup.databaseMaxSizeBytes, databaseBytes, { what: "database", atLeast: true }));
          return;
        }
        done(null, chunk);
      },
    });
    dumpOutput.pipe(limited);
    dumpOutput.on("error", (error) => limited.destroy(error));

    const dumping = engine.dump(connectionString.value, dumpOutput, { signal }).catch((error: unknown) => {
      limited.destroy(error as Error);
      throw error;
    });
    const archiving = zip.addStream(entryName, limited, { mtime: startedAt, mode: 0o100644 }).catch((error: unknown) => {
      dumpOutput.destroy(error as Error);
      throw error;
    });
    try {
      const [summary, entry] = await Promise.all([dumping, archiving]);
      for (const warning of summary.warnings) log.warning(`${ref.connectionStringName}: ${warning}`);
      if (summary.notCovered.length) {
        log.warning(`${ref.connectionStringName}: not covered by the consistent snapshot (non-transactional engine): ${summary.notCovered.join(", ")}.`);
      }
      const rows = summary.tables.reduce((sum, t) => sum + t.rows, 0);
      log.info(`Dumped ${ref.connectionStringName}: ${summary.tables.length} tables, ${rows} rows, ${entry.size} bytes, ${summary.consistency}.`);
      records.push({
        connectionStringName: ref.connectionStringName,
        databaseType: ref.databaseType,
        entry: entryName,
        engine: summary.engine,
        serverVersion: summary.serverVersion,
        database: summary.database,
        consistency: summary.consistency,
        sizeBytes: entry.size,
        sha256: entry.sha256,
        tables: summary.tables,
        notCovered: summary.notCovered,
        warnings: summary.warnings,
      });
    } catch (error) {
      await Promise.allSettled([dumping, archiving]);
      if (error instanceof AppBackupError && error.code === "SIZE_LIMIT") throw error;
      const reason = error instanceof AppBackupError ? error.message : (error as Error).message;
      throw new AppBackupError(
        "DATABASE",
        `The dump of database ${ref.connectionStringName} (${target}) failed: ${reason}`,
        error instanceof AppBackupError ? error.hint : undefined,
        { cause: error },
      );
    }
  }
  return records;
}

function safeDescribe(describe: () => string): string {
  try {
    return describe();
  } catch {
    return "connection string not understood";
  }
}
