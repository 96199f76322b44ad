import {
  configurationDifferences,
  deleteStoredConfiguration,
  isAppBackupError,
  openStore,
  readStoredConfiguration,
  redactorFor,
  storeConfiguration,
  storedConfigurationFromOptions,
  storedConfigurationName,
  toolVersion,
  type AppBackupOptions,
  type StoredConfiguration,
} from "../core/index.js";
import { providerError, resolveAppOptions } from "./app-options.js";
import {
  backupConfigurationKeys,
  containsUnknown,
  normalizeBackupConfigurationInputs,
  optionalBackupConfigurationOutputs,
  pick,
  sameValue,
  unknownKeys,
  withAbsentAsNull,
} from "./normalize.js";
import { requireSameLocation, storageMoved } from "./storage-location.js";
import type { ResourceOperations } from "./resource-operations.js";
import type { BackupConfigurationInputs, BackupConfigurationOutputs, BackupSchedule, ConnectionStringValue } from "./types.js";

/**
 * A BackupConfiguration is the app's stored configuration document in its
 * container: create and update write it, delete removes it (never a backup),
 * read compares it with the inputs.
 */
export const backupConfigurationOperations: ResourceOperations<BackupConfigurationInputs, BackupConfigurationOutputs> = {
  async check(_olds, news) {
    const unknown = unknownKeys(news as unknown as Record<string, unknown>, backupConfigurationKeys);
    if (unknown.length > 0) {
      return {
        failures: unknown.map((key) => ({
          property: key,
          reason: `BackupConfiguration has no input "${key}"; its inputs are ${backupConfigurationKeys.join(", ")}.`,
        })),
      };
    }
    const inputs = normalizeBackupConfigurationInputs(news as unknown as Record<string, unknown>);
    // During a preview some inputs may not be known yet; they are checked when they are.
    if (!containsUnknown(inputs)) await resolveAppOptions(inputs, "BackupConfiguration");
    return { inputs };
  },

  async diff(_id, olds, news) {
    const replaces: string[] = [];
    // The document is named after the app and lives in the container: another one is another document.
    if (olds.name !== news.name) replaces.push("name");
    if (await storageMoved(olds, news.storage)) replaces.push("storage");
    const changes = replaces.length > 0 || backupConfigurationKeys.some((key) => !sameValue(olds[key], news[key]));
    return { changes, replaces };
  },

  async create(inputs) {
    const outs = await store(inputs);
    return { id: outs.configurationUrl, outs };
  },

  async update(_id, _olds, news) {
    return { outs: await store(news) };
  },

  async read(id, props) {
    const recorded = props as BackupConfigurationOutputs;
    const inputs = normalizeBackupConfigurationInputs(pick(recorded as unknown as Record<string, unknown>, backupConfigurationKeys));
    const options = await resolveAppOptions(inputs, "BackupConfiguration");
    const storeOfApp = await openStore(options.backup.storage);
    requireSameLocation(storeOfApp, recorded, "BackupConfiguration", "refresh the configuration");
    let document: StoredConfiguration | undefined;
    try {
      document = await readStoredConfiguration(storeOfApp, inputs.name);
    } catch (error) {
      // A document that no longer parses is not this configuration any more: the next `up` writes it again.
      if (!(isAppBackupError(error) && error.code === "CONFIG_INVALID")) throw providerError(error, redactorFor(options));
    }
    if (!document) return {};
    const current = inputsMatching(inputs, options, document);
    const outs = outputsOf(current, document, storeOfApp.urlOf(storedConfigurationName(inputs.name)), storeOfApp.location);
    return { id, props: outs, inputs: current };
  },

  async delete(_id, props) {
    const inputs = normalizeBackupConfigurationInputs(pick(props as unknown as Record<string, unknown>, backupConfigurationKeys));
    const options = await resolveAppOptions(inputs, "BackupConfiguration");
    const storeOfApp = await openStore(options.backup.storage);
    requireSameLocation(storeOfApp, props, "BackupConfiguration", "remove the configuration");
    try {
      await deleteStoredConfiguration(storeOfApp, inputs.name);
    } catch (error) {
      throw providerError(error, redactorFor(options));
    }
  },
};

async function store(inputs: BackupConfigurationInputs): Promise<BackupConfigurationOutputs> {
  const options = await resolveAppOptions(inputs, "BackupConfiguration");
  try {
    const storeOfApp = await openStore(options.backup.storage);
    const result = await storeConfiguration(options, { store: storeOfApp, storedBy: `app-backup ${toolVersion} (Pulumi)` });
    return outputsOf(inputs, result.document, result.url, storeOfApp.location);
  } catch (error) {
    throw providerError(error, redactorFor(options));
  }
}

function outputsOf(inputs: BackupConfigurationInputs, document: StoredConfiguration, url: string, location: string): BackupConfigurationOutputs {
  const outputs = {
    ...inputs,
    configurationUrl: url,
    storageLocation: location,
    homePath: document.app.home,
    scheduleStartTime: document.backup.schedule?.startTime,
  };
  return withAbsentAsNull(outputs, optionalBackupConfigurationOutputs);
}

/**
 * The inputs that describe the stored document: the recorded ones when the
 * document says what they say, else the document's values for the keys that
 * differ, so a refresh shows the change and the next `up` writes the inputs again.
 */
function inputsMatching(inputs: BackupConfigurationInputs, options: AppBackupOptions, document: StoredConfiguration): BackupConfigurationInputs {
  const expected = storedConfigurationFromOptions(options, { previous: document });
  const differences = configurationDifferences(document, expected);
  if (differences.length === 0) return inputs;
  const current: BackupConfigurationInputs = { ...inputs };
  for (const key of differences) {
    if (key === "home") current.home = document.app.home;
    else if (key === "settings") current.settings = { ...document.app.settings };
    else if (key === "connectionStrings") current.connectionStrings = connectionStringsOf(document, inputs.connectionStrings);
    else if (key === "backup.enabled") current.enabled = document.backup.enabled;
    else if (key === "backup.databases") current.databases = document.backup.databases.map((database) => ({ ...database }));
    else if (key === "backup.maxSize") current.maxSize = document.backup.maxSizeBytes;
    else if (key === "backup.databaseMaxSize") current.databaseMaxSize = document.backup.databaseMaxSizeBytes;
    else if (key === "backup.filter") setOrDelete(current, "filter", document.backup.filter ?? undefined);
    else if (key.startsWith("backup.schedule")) setOrDelete(current, "backupSchedule", scheduleOf(document));
  }
  return sameValue(current, inputs) ? inputs : current;
}

function connectionStringsOf(document: StoredConfiguration, declared: Record<string, ConnectionStringValue>): Record<string, ConnectionStringValue> {
  const result: Record<string, ConnectionStringValue> = {};
  for (const [name, stored] of Object.entries(document.app.connectionStrings)) {
    // A value the document does not keep (not an `${env:VAR}` form) stays as declared, or empty when it was not.
    result[name] = { type: stored.type, value: stored.value ?? declared[name]?.value ?? "" };
  }
  return result;
}

function scheduleOf(document: StoredConfiguration): BackupSchedule | undefined {
  const schedule = document.backup.schedule;
  if (!schedule) return undefined;
  const result: BackupSchedule = {
    frequencyInterval: schedule.frequencyInterval,
    frequencyUnit: schedule.frequencyUnit,
    keepAtLeastOneBackup: schedule.keepAtLeastOneBackup,
    retentionPeriodInDays: schedule.retentionPeriodInDays,
    tiered: schedule.tiered,
  };
  if (schedule.startTimeSource === "declared") result.startTime = schedule.startTime;
  return result;
}

function setOrDelete<K extends "filter" | "backupSchedule">(target: BackupConfigurationInputs, key: K, value: BackupConfigurationInputs[K] | undefined): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** The inputs that declare a stored document as it is, in `storage`: what `pulumi import` records. */
export function inputsOfDocument(document: StoredConfiguration, storage: BackupConfigurationInputs["storage"]): BackupConfigurationInputs {
  const inputs: BackupConfigurationInputs = {
    name: document.app.name,
    home: document.app.home,
    storage,
    settings: { ...document.app.settings },
    connectionStrings: connectionStringsOf(document, {}),
    databases: document.backup.databases.map((database) => ({ ...database })),
    maxSize: document.backup.maxSizeBytes,
    databaseMaxSize: document.backup.databaseMaxSizeBytes,
    enabled: document.backup.enabled,
  };
  setOrDelete(inputs, "filter", document.backup.filter ?? undefined);
  setOrDelete(inputs, "backupSchedule", scheduleOf(document));
  return inputs;
}
