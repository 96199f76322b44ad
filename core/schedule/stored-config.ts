import * as v from "valibot";
import { issuesInOneLine } from "../config/issues.js";
import { resolveConfig } from "../config/load.js";
import { connectionStringTypes, databaseTypes, frequencyUnits, type FrequencyUnit } from "../config/schema.js";
import { AppBackupError } from "../errors.js";
import type { AppBackupOptions } from "../options.js";
import { secretsInConnectionString } from "../secrets.js";
import type { Store } from "../store/store.js";
import { toolVersion } from "../version.js";

/**
 * The backup configuration of one app as stored in its container, so that
 * whoever declares it (CLI, GitHub Action, Pulumi) and whoever runs the
 * schedule read one source. Storage is not in it (the document lives there),
 * and neither is any secret: connection strings are kept by name and type, with
 * their value only when it is declared through `${env:VAR}` references.
 */
export interface StoredConfiguration {
  kind: typeof documentKind;
  formatVersion: 1;
  app: {
    name: string;
    /** Absolute path of the app's content, as resolved where the configuration was declared. */
    home: string;
    /** Settings as declared (`${env:VAR}` kept), the way they go into a backup's meta. */
    settings: Record<string, string>;
    /** `value` is the declared `${env:VAR}` form, or null: the runner supplies it by name. */
    connectionStrings: Record<string, { type: (typeof connectionStringTypes)[number]; value: string | null }>;
  };
  backup: {
    enabled: boolean;
    databases: Array<{ connectionStringName: string; databaseType: (typeof databaseTypes)[number]; name?: string }>;
    maxSizeBytes: number;
    databaseMaxSizeBytes: number;
    /** Inline filter lines; null means the home's `_backup.filter`. */
    filter: string[] | null;
    /** Null: no scheduled backups. */
    schedule: StoredSchedule | null;
  };
  storedAt: string;
  storedBy: string;
}

export interface StoredSchedule {
  frequencyInterval: number;
  frequencyUnit: FrequencyUnit;
  startTime: string;
  /** "default": startTime was not declared and is the time the schedule was first stored. */
  startTimeSource: "declared" | "default";
  retentionPeriodInDays: number;
  keepAtLeastOneBackup: boolean;
  tiered: boolean;
}

const documentKind = "app-backup.backup-configuration";

const isoTime = v.pipe(v.string(), v.isoTimestamp());

const scheduleDocument = v.object({
  frequencyInterval: v.pipe(v.number(), v.integer(), v.minValue(1)),
  frequencyUnit: v.picklist(frequencyUnits),
  startTime: isoTime,
  startTimeSource: v.picklist(["declared", "default"]),
  retentionPeriodInDays: v.pipe(v.number(), v.integer(), v.minValue(0)),
  keepAtLeastOneBackup: v.boolean(),
  tiered: v.boolean(),
});

const storedConfigurationSchema = v.object({
  kind: v.literal(documentKind),
  formatVersion: v.literal(1),
  app: v.object({
    name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,59}$/)),
    home: v.pipe(v.string(), v.minLength(1)),
    settings: v.record(v.string(), v.string()),
    connectionStrings: v.record(v.string(), v.object({ type: v.picklist(connectionStringTypes), value: v.nullable(v.string()) })),
  }),
  backup: v.object({
    enabled: v.boolean(),
    databases: v.array(
      v.object({ connectionStringName: v.pipe(v.string(), v.minLength(1)), databaseType: v.picklist(databaseTypes), name: v.optional(v.string()) }),
    ),
    maxSizeBytes: v.pipe(v.number(), v.integer(), v.minValue(1)),
    databaseMaxSizeBytes: v.pipe(v.number(), v.integer(), v.minValue(1)),
    filter: v.nullable(v.array(v.string())),
    schedule: v.nullable(scheduleDocument),
  }),
  storedAt: isoTime,
  storedBy: v.string(),
});

/** The blob (or file) name of an app's stored configuration; `list` does not take it for a backup. */
export function storedConfigurationName(appName: string): string {
  return `${appName}.backup-config.json`;
}

/**
 * The document for an app's options. An undeclared `startTime` defaults to the
 * time the schedule is first stored (`now`), and keeps the one of `previous`
 * when a schedule was stored before, so declaring the same configuration again
 * does not move the schedule.
 */
export function storedConfigurationFromOptions(
  options: AppBackupOptions,
  context: { now?: Date; previous?: StoredConfiguration; storedBy?: string } = {},
): StoredConfiguration {
  const now = context.now ?? new Date();
  const connectionStrings: StoredConfiguration["app"]["connectionStrings"] = {};
  for (const [name, cs] of Object.entries(options.app.connectionStrings)) {
    connectionStrings[name] = { type: cs.type as (typeof connectionStringTypes)[number], value: isSecretFree(cs.declared) ? cs.declared : null };
  }
  const schedule = options.backup.schedule;
  let storedSchedule: StoredSchedule | null = null;
  if (schedule) {
    const previousStart = context.previous?.backup.schedule?.startTime;
    storedSchedule = {
      frequencyInterval: schedule.frequencyInterval,
      frequencyUnit: schedule.frequencyUnit,
      startTime: schedule.startTime
        ? new Date(schedule.startTime).toISOString()
        : (previousStart ?? new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString()),
      startTimeSource: schedule.startTime ? "declared" : "default",
      retentionPeriodInDays: schedule.retentionPeriodInDays,
      keepAtLeastOneBackup: schedule.keepAtLeastOneBackup,
      tiered: schedule.tiered,
    };
  }
  return {
    kind: documentKind,
    formatVersion: 1,
    app: {
      name: options.app.name,
      home: options.app.home,
      settings: { ...options.app.declaredSettings },
      connectionStrings,
    },
    backup: {
      enabled: options.backup.enabled,
      databases: options.backup.databases.map((d) => ({ ...d })),
      maxSizeBytes: options.backup.maxSizeBytes,
      databaseMaxSizeBytes: options.backup.databaseMaxSizeBytes,
      filter: options.backup.filter ? [...options.backup.filter] : null,
      schedule: storedSchedule,
    },
    storedAt: now.toISOString(),
    storedBy: context.storedBy ?? `app-backup ${toolVersion}`,
  };
}

/**
 * A connection string's declared form is stored only when it is built on
 * `${env:VAR}` references and spells out no credential itself; anything else
 * might be a secret in a form no rule recognises.
 */
function isSecretFree(declared: string): boolean {
  if (!/\$\{env:[A-Za-z_][A-Za-z0-9_]*\}/.test(declared)) return false;
  return secretsInConnectionString(declared).every((secret) => /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/.test(secret));
}

/** Writes (or replaces) the app's stored configuration; returns its address. */
export async function writeStoredConfiguration(store: Store, doc: StoredConfiguration): Promise<string> {
  const parsed = v.safeParse(storedConfigurationSchema, doc);
  if (!parsed.success) {
    throw new AppBackupError(
      "CONFIG_INVALID",
      `The backup configuration to store is invalid: ${issuesInOneLine(parsed.issues)}.`,
    );
  }
  const name = storedConfigurationName(doc.app.name);
  await store.put(name, `${JSON.stringify(doc, null, 2)}\n`, { overwrite: true });
  return store.urlOf(name);
}

/** The app's stored configuration, or undefined when none is stored. */
export async function readStoredConfiguration(store: Store, appName: string): Promise<StoredConfiguration | undefined> {
  const name = storedConfigurationName(appName);
  if (!(await store.exists(name))) return undefined;
  const text = (await store.readAll(name)).toString("utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw corrupt(store, name, `it is not JSON (${(error as Error).message})`);
  }
  const parsed = v.safeParse(storedConfigurationSchema, raw);
  if (!parsed.success) {
    throw corrupt(store, name, issuesInOneLine(parsed.issues));
  }
  if (parsed.output.app.name !== appName) {
    throw corrupt(store, name, `it is the configuration of "${parsed.output.app.name}", not of "${appName}"`);
  }
  return parsed.output as StoredConfiguration;
}

/** Reads the stored configuration, failing with what to do when there is none. */
export async function requireStoredConfiguration(store: Store, appName: string): Promise<StoredConfiguration> {
  const doc = await readStoredConfiguration(store, appName);
  if (!doc) {
    throw new AppBackupError(
      "CONFIG_UNREADABLE",
      `No backup configuration of ${appName} is stored in ${store.location} (${storedConfigurationName(appName)}).`,
      "Store it first with `app-backup configure --config FILE`, or with the Pulumi resource that declares it.",
    );
  }
  return doc;
}

export async function deleteStoredConfiguration(store: Store, appName: string): Promise<void> {
  await store.delete(storedConfigurationName(appName));
}

/**
 * The options a runner backs up with: the stored document for what to back up
 * and when, the runner's own options for where (storage) and for secrets.
 * A connection string's value comes from the runner's configuration when it
 * declares one by that name, else from the stored `${env:VAR}` form resolved in
 * `env`. `home` replaces the stored home when the runner sees the content
 * elsewhere.
 */
export function optionsFromStoredConfiguration(
  doc: StoredConfiguration,
  runner: AppBackupOptions,
  context: { env?: NodeJS.ProcessEnv; home?: string; source?: string } = {},
): { options: AppBackupOptions; warnings: string[] } {
  const source = context.source ?? `${storedConfigurationName(doc.app.name)} (the stored backup configuration)`;
  const warnings: string[] = [];
  const used = new Set(doc.backup.databases.map((d) => d.connectionStringName));
  const connectionStrings: Record<string, { type: string; value: string }> = {};
  for (const [name, cs] of Object.entries(doc.app.connectionStrings)) {
    const declared = runner.app.connectionStrings[name]?.declared ?? cs.value;
    if (declared === null) {
      const where = runner.configPath ? `connectionStrings.${name} in ${runner.configPath}` : `a connection string named ${name} in the runner's configuration`;
      if (used.has(name)) {
        throw new AppBackupError(
          "CONFIG_INVALID",
          `The stored configuration of ${doc.app.name} backs up the database of connection string ${name}, but its value is not stored (it is not declared as \${env:VAR}) and the runner has no ${where}.`,
          `Declare ${where}, or declare its value as \${env:VAR} and run \`app-backup configure\` again.`,
        );
      }
      warnings.push(`Connection string ${name} is not in the backup's meta: its value is not stored and the runner's configuration does not declare it.`);
      continue;
    }
    connectionStrings[name] = { type: cs.type, value: declared };
  }
  const schedule = doc.backup.schedule;
  const raw = {
    name: doc.app.name,
    home: context.home ?? doc.app.home,
    settings: doc.app.settings,
    connectionStrings,
    backup: {
      // Replaced below by the runner's resolved storage.
      storage: "file:/",
      databases: doc.backup.databases,
      maxSize: doc.backup.maxSizeBytes,
      databaseMaxSize: doc.backup.databaseMaxSizeBytes,
      ...(doc.backup.filter ? { filter: doc.backup.filter } : {}),
      enabled: doc.backup.enabled,
      ...(schedule
        ? {
            schedule: {
              frequencyInterval: schedule.frequencyInterval,
              frequencyUnit: schedule.frequencyUnit,
              startTime: schedule.startTime,
              retentionPeriodInDays: schedule.retentionPeriodInDays,
              keepAtLeastOneBackup: schedule.keepAtLeastOneBackup,
              tiered: schedule.tiered,
            },
          }
        : {}),
    },
  };
  const resolved = resolveConfig(raw, { baseDir: "/", env: context.env ?? process.env, source });
  // A remote home's login is a secret, never stored: the runner's configuration of the same home gives it.
  const sameHome = Boolean(resolved.app.remote && runner.app.remote && runner.app.home === resolved.app.home);
  if (resolved.app.remote?.kind === "sftp" && !sameHome) {
    // Without this the connection would fail later with "no credentials", while the runner's file does hold a login (for its own home).
    const where = runner.configPath ?? "the runner's configuration";
    throw new AppBackupError(
      "CONFIG_INVALID",
      `The stored configuration of ${doc.app.name} backs up the home ${resolved.app.home}, whose SFTP login is never stored, and ${where} gives ${
        runner.app.remote?.kind === "sftp" ? `the login of another home, ${runner.app.home}` : `no login for it (its home is ${runner.app.home})`
      }.`,
      `Set home in ${where} to ${resolved.app.home} with its sftp: login, or store that file's home with \`app-backup configure\`.`,
    );
  }
  const remote = sameHome ? runner.app.remote : resolved.app.remote;
  return {
    options: { ...resolved, app: { ...resolved.app, ...(remote ? { remote } : {}) }, backup: { ...resolved.backup, storage: runner.backup.storage }, configPath: runner.configPath },
    warnings,
  };
}

/**
 * The keys on which a configuration (say, the runner's file) differs from the
 * stored one, so a runner can say that the stored one is what it uses.
 */
export function configurationDifferences(stored: StoredConfiguration, other: StoredConfiguration): string[] {
  const differences: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(stored.app.home, other.app.home)) differences.push("home");
  if (!same(sorted(stored.app.settings), sorted(other.app.settings))) differences.push("settings");
  const types = (doc: StoredConfiguration) => sorted(Object.fromEntries(Object.entries(doc.app.connectionStrings).map(([k, v]) => [k, v.type])));
  if (!same(types(stored), types(other))) differences.push("connectionStrings");
  const backupKeys = ["enabled", "databases", "maxSizeBytes", "databaseMaxSizeBytes", "filter"] as const;
  const keyNames: Record<(typeof backupKeys)[number], string> = {
    enabled: "backup.enabled",
    databases: "backup.databases",
    maxSizeBytes: "backup.maxSize",
    databaseMaxSizeBytes: "backup.databaseMaxSize",
    filter: "backup.filter",
  };
  for (const key of backupKeys) if (!same(stored.backup[key], other.backup[key])) differences.push(keyNames[key]);
  const a = stored.backup.schedule;
  const b = other.backup.schedule;
  if (!a || !b) {
    if (a !== b) differences.push("backup.schedule");
  } else {
    for (const key of ["frequencyInterval", "frequencyUnit", "retentionPeriodInDays", "keepAtLeastOneBackup", "tiered"] as const) {
      if (a[key] !== b[key]) differences.push(`backup.schedule.${key}`);
    }
    if (b.startTimeSource === "declared" && a.startTime !== b.startTime) differences.push("backup.schedule.startTime");
  }
  return differences;
}

function sorted(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([x], [y]) => x.localeCompare(y)));
}

function corrupt(store: Store, name: string, why: string): AppBackupError {
  return new AppBackupError(
    "CONFIG_INVALID",
    `The stored backup configuration ${name} in ${store.location} is not valid: ${why}.`,
    "Store it again with `app-backup configure --config FILE`.",
  );
}
