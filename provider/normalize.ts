import { backupDefaults, byCodeUnits, scheduleDefaults } from "../core/index.js";
import type { AbsentAsNull, AppInputs, BackupConfigurationInputs, BackupInputs, BackupSchedule } from "./types.js";

export { scheduleDefaults };

/** What the engine puts in place of a value it does not know yet (during preview). */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const appKeys = ["name", "home", "sftp", "storage", "settings", "connectionStrings", "databases", "filter", "maxSize", "databaseMaxSize"] as const;
export const backupConfigurationKeys = [...appKeys, "backupName", "backupSchedule", "enabled"] as const;
export const backupKeys = [...appKeys, "triggers", "deleteOnDestroy", "origin"] as const;
const optionalAppKeys = ["sftp", "filter", "maxSize", "databaseMaxSize"];
export const optionalBackupConfigurationOutputs = [...optionalAppKeys, "backupName", "backupSchedule", "scheduleStartTime"];
export const optionalBackupOutputs = [...optionalAppKeys, "triggers", "origin"];

export function containsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** JSON with object keys sorted and undefined members left out: equal text means equal values. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => {
    if (member === null || typeof member !== "object" || Array.isArray(member)) return member;
    return Object.fromEntries(Object.entries(member).sort(([a], [b]) => byCodeUnits(a, b)));
  });
}

/** Equal values; a null member (how outputs spell "absent") equals an absent one. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** The outputs with every optional member present: null when absent (see `AbsentAsNull`). */
export function withAbsentAsNull<T extends object>(outputs: T, optionalKeys: readonly string[]): AbsentAsNull<T> {
  const complete = { ...outputs } as Record<string, unknown>;
  for (const key of optionalKeys) complete[key] ??= null;
  return complete as AbsentAsNull<T>;
}

/** The input members of a state object (outputs carry the inputs plus what the provider computed). */
export function pick<K extends string>(source: Record<string, unknown>, keys: readonly K[]): Partial<Record<K, unknown>> {
  const picked: Partial<Record<K, unknown>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}

/** Input keys this resource does not have, so a misspelt key fails instead of being ignored. */
export function unknownKeys(inputs: Record<string, unknown>, keys: readonly string[]): string[] {
  return Object.keys(inputs).filter((key) => key !== "__provider" && !keys.includes(key));
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Leaves out absent members: undefined in inputs, null in outputs. */
function withoutAbsent<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined && member !== null)) as T;
}

/**
 * The app inputs with their defaults filled in. Values of the wrong type are
 * passed through untouched: validation reports them with their input name.
 */
export function normalizeAppInputs(news: Record<string, unknown>): AppInputs {
  const databases = Array.isArray(news.databases)
    ? news.databases.map((database) => {
        const fields = record(database);
        return fields ? withoutAbsent({ connectionStringName: fields.connectionStringName, databaseType: fields.databaseType, name: fields.name }) : database;
      })
    : (news.databases ?? []);
  return withoutAbsent({
    name: news.name,
    home: news.home,
    sftp: news.sftp,
    storage: news.storage,
    settings: news.settings ?? {},
    connectionStrings: news.connectionStrings ?? {},
    databases,
    filter: news.filter,
    maxSize: news.maxSize,
    databaseMaxSize: news.databaseMaxSize,
  } as AppInputs);
}

export function normalizeSchedule(value: unknown): BackupSchedule | undefined {
  if (value === undefined || value === null) return undefined;
  const schedule = record(value);
  if (!schedule) return value as BackupSchedule;
  return withoutAbsent({
    frequencyInterval: schedule.frequencyInterval ?? scheduleDefaults.frequencyInterval,
    frequencyUnit: schedule.frequencyUnit ?? scheduleDefaults.frequencyUnit,
    keepAtLeastOneBackup: schedule.keepAtLeastOneBackup ?? scheduleDefaults.keepAtLeastOneBackup,
    retentionPeriodInDays: schedule.retentionPeriodInDays ?? scheduleDefaults.retentionPeriodInDays,
    startTime: schedule.startTime,
    tiered: schedule.tiered ?? scheduleDefaults.tiered,
    // Unknown schedule keys stay, so validation names them.
    ...Object.fromEntries(Object.entries(schedule).filter(([key]) => !(key in scheduleDefaults) && key !== "startTime")),
  } as BackupSchedule);
}

export function normalizeBackupConfigurationInputs(news: Record<string, unknown>): BackupConfigurationInputs {
  return withoutAbsent({
    ...normalizeAppInputs(news),
    backupName: news.backupName,
    backupSchedule: normalizeSchedule(news.backupSchedule),
    enabled: news.enabled ?? backupDefaults.enabled,
  } as BackupConfigurationInputs);
}

export function normalizeBackupInputs(news: Record<string, unknown>): BackupInputs {
  return withoutAbsent({
    ...normalizeAppInputs(news),
    triggers: news.triggers,
    deleteOnDestroy: news.deleteOnDestroy ?? false,
    origin: news.origin,
  } as BackupInputs);
}
