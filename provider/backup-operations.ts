import {
  AppBackupError,
  blobNames,
  deleteBackup,
  isAppBackupError,
  openStore,
  readManifestSummary,
  redactorFor,
  runBackup,
  type BackupResult,
  type ManifestSummary,
  type Redactor,
  type Store,
} from "../core/index.js";
import { providerError, resolveAppOptions } from "./app-options.js";
import { backupKeys, containsUnknown, normalizeBackupInputs, optionalBackupOutputs, pick, sameValue, unknownKeys, withAbsentAsNull } from "./normalize.js";
import { requireSameLocation, storageMoved } from "./storage-location.js";
import type { ResourceOperations } from "./resource-operations.js";
import type { BackupInputs, BackupOutputs } from "./types.js";

/** Keys whose change takes a new backup: the resource is replaced. */
const replacingKeys = ["triggers", "name"] as const;
/** Keys recorded for information only; a change to them alone is no change. */
const informationKeys = ["origin"];

/** The log lines a failed `up` shows; the whole log stays in the container. */
const logLinesShown = 60;

/**
 * A Backup is one on-demand backup, taken when the resource is created. It
 * stays in the container when the resource goes away unless `deleteOnDestroy`.
 */
export const backupOperations: ResourceOperations<BackupInputs, BackupOutputs> = {
  async check(_olds, news) {
    const raw = news as unknown as Record<string, unknown>;
    const unknown = unknownKeys(raw, backupKeys);
    if (unknown.length > 0) {
      return { failures: unknown.map((key) => ({ property: key, reason: `Backup has no input "${key}"; its inputs are ${backupKeys.join(", ")}.` })) };
    }
    if (raw.triggers !== undefined && !Array.isArray(raw.triggers) && !containsUnknown(raw.triggers)) {
      return { failures: [{ property: "triggers", reason: "triggers must be a list of values, e.g. [releaseVersion]." }] };
    }
    if (raw.deleteOnDestroy !== undefined && typeof raw.deleteOnDestroy !== "boolean" && !containsUnknown(raw.deleteOnDestroy)) {
      return { failures: [{ property: "deleteOnDestroy", reason: "deleteOnDestroy must be true or false." }] };
    }
    const inputs = normalizeBackupInputs(raw);
    if (!containsUnknown(inputs)) await resolveAppOptions(inputs, "Backup");
    return { inputs };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = replacingKeys.filter((key) => !sameValue(olds[key], news[key]));
    if (await storageMoved(olds, news.storage)) replaces.push("storage");
    const changes = replaces.length > 0 || backupKeys.some((key) => !informationKeys.includes(key) && !sameValue(olds[key], news[key]));
    return { changes, replaces };
  },

  async create(inputs) {
    const options = await resolveAppOptions(inputs, "Backup");
    const redactor = redactorFor(options);
    const storeOfApp = await openStore(options.backup.storage);
    let result: BackupResult;
    try {
      result = await runBackup(options, { trigger: "OnDemand", origin: inputs.origin, store: storeOfApp });
    } catch (error) {
      throw providerError(error, redactor);
    }
    if (result.status === "Failed" || !result.zip) throw await failedBackupError(storeOfApp, result, redactor);
    const outs = outputsOf(inputs, {
      backupName: result.name,
      status: result.status,
      zipUrl: result.zip,
      manifestUrl: result.manifest,
      logUrl: result.log,
      sizeBytes: result.sizeBytes,
      createdAt: result.startedAt.toISOString(),
      storageLocation: storeOfApp.location,
      warnings: result.warnings,
    });
    return { id: result.manifest, outs };
  },

  // Only what the next backup would use changed: this backup stays as it is.
  async update(_id, olds, news) {
    return { outs: outputsOf(news, olds) };
  },

  async read(id, props) {
    const recorded = props as BackupOutputs;
    const inputs = normalizeBackupInputs(pick(recorded as unknown as Record<string, unknown>, backupKeys));
    const options = await resolveAppOptions(inputs, "Backup");
    const storeOfApp = await openStore(options.backup.storage);
    requireSameLocation(storeOfApp, recorded, "Backup", `refresh the backup ${recorded.backupName}`);
    let summary: ManifestSummary;
    try {
      summary = await readManifestSummary(storeOfApp, recorded.backupName);
      // Without its zip a backup cannot be restored: it is gone as much as without its manifest.
      if (!(await storeOfApp.exists(blobNames(recorded.backupName).zip))) return {};
    } catch (error) {
      if (isAppBackupError(error) && error.code === "BACKUP_NOT_FOUND") return {};
      throw providerError(error, redactorFor(options));
    }
    const names = blobNames(recorded.backupName);
    const outs = outputsOf(inputs, {
      backupName: recorded.backupName,
      status: summary.status,
      zipUrl: storeOfApp.urlOf(names.zip),
      manifestUrl: storeOfApp.urlOf(names.manifest),
      logUrl: storeOfApp.urlOf(names.log),
      sizeBytes: summary.zip?.sizeBytes ?? 0,
      createdAt: summary.startedAt.toISOString(),
      storageLocation: storeOfApp.location,
      warnings: recorded.warnings ?? summary.warnings,
    });
    return { id, props: outs, inputs };
  },

  async delete(_id, props) {
    if (!props.deleteOnDestroy) return;
    const inputs = normalizeBackupInputs(pick(props as unknown as Record<string, unknown>, backupKeys));
    const options = await resolveAppOptions(inputs, "Backup");
    const storeOfApp = await openStore(options.backup.storage);
    requireSameLocation(storeOfApp, props, "Backup", `delete the backup ${props.backupName}`);
    try {
      await deleteBackup(storeOfApp, props.backupName);
    } catch (error) {
      throw providerError(error, redactorFor(options));
    }
  },
};

/** What the provider records of a backup, besides the inputs. */
type BackupRecord = Omit<BackupOutputs, keyof BackupInputs>;

function outputsOf(inputs: BackupInputs, backup: BackupRecord): BackupOutputs {
  const record: BackupRecord = {
    backupName: backup.backupName,
    status: backup.status,
    zipUrl: backup.zipUrl,
    manifestUrl: backup.manifestUrl,
    logUrl: backup.logUrl,
    sizeBytes: backup.sizeBytes,
    createdAt: backup.createdAt,
    storageLocation: backup.storageLocation,
    warnings: backup.warnings,
  };
  return withAbsentAsNull({ ...inputs, ...record }, optionalBackupOutputs);
}

/** The error a failed backup fails the `up` with: why, and the end of its log. */
async function failedBackupError(store: Store, result: BackupResult, redactor: Redactor): Promise<Error> {
  let log: string;
  try {
    const lines = (await store.readAll(blobNames(result.name).log)).toString("utf8").trimEnd().split("\n");
    log = (lines.length > logLinesShown ? [`(${lines.length - logLinesShown} earlier lines in the log)`, ...lines.slice(-logLinesShown)] : lines).join("\n");
  } catch (error) {
    log = `(the log could not be read: ${(error as Error).message})`;
  }
  return providerError(
    new AppBackupError(
      "USAGE",
      `The backup ${result.name} of ${result.appName} failed: ${result.error ?? "no zip was written"}\nIts log, ${result.log}:\n${log}`,
      `Fix the cause and run \`pulumi up\` again. The failed backup stays in ${store.location} as a record with status Failed; it cannot be restored.`,
    ),
    redactor,
  );
}
